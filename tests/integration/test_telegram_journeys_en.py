"""Telegram end to end in English: real Update JSON posted to /telegram/webhook, the real aiogram client
answering through the fake Bot API, and what an English-speaking user sees asserted word for word.
Every journey a volunteer, a requester or an organizer makes in chat, with the notices the outbox
dispatcher delivers. Everything shown to an English speaker after they picked English must be free of
Chinese (the data in these tests is English too, so any Chinese would be a text left untranslated)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bots.app import SERVICES
from core.chat.messages import Command, Incoming, Say, Text
from core.domain.codes import ActivityMode, Channel, OrgKind, RiskLevel, ServiceContent
from core.domain.people import Actor, ConsentKind, Role
from core.policy import Policy
from core.services.access import load_actor
from core.services.reviews import submit_org_application
from core.services.signups import sign_up
from core.services.users import ensure_user, grant_role
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer, request_membership
from locales import translator
from scheduler.dispatcher import dispatch_due
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, org_form
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import TEST_BOT_USERNAME, FakeTelegramAPI
from tests.fakes.telegram_updates import Person, TelegramUpdates
from tests.integration.test_telegram_webhook import Chat

ALICE = Person(id=6_100_000_001, first_name="Alice", language_code="en")
BOB = Person(id=6_100_000_002, first_name="Bob", language_code="en-GB")
CAROL = Person(id=6_100_000_003, first_name="Carol", language_code="en")
STAFF = Person(id=6_100_000_009, first_name="Organizer", language_code="en")
WANG = Person(id=5_100_000_001, first_name="王", language_code="zh-hans")

ORG = "Xuanwu Science Volunteers"
PARENT = "Nanjing Science Volunteer Association"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# An activity plan written in English: anything Chinese an English speaker sees is then the bot's own.
PLAN: dict[str, Any] = {
    "title": "Anti-fraud talk",
    "purpose": "Help older residents spot phone scams",
    "content": "A 40-minute talk, then questions",
    "beneficiaries": "About 80 residents",
    "guarantees": "Lunch and travel allowance",
    "emergency_plan": "First-aid kit on site; nearest hospital 1 km",
    "place_name": "Xuanwu Science Centre",
    "address": "1 Beijing East Road, Nanjing",
    "latitude": 32.0603,
    "longitude": 118.7969,
}


class EnChat(Chat):
    """An English speaker: once they have picked English, every text and button they get is checked
    for Chinese as it arrives."""

    english = False

    async def send(self, update: dict[str, Any]) -> str:
        text = await super().send(update)
        self._check_english()
        return text

    def inbox(self) -> str:
        """Messages that reached this user outside a turn of theirs (notices from the dispatcher)."""
        self.last = self.new_messages()
        self._check_english()
        return self.text

    def buttons(self) -> list[str]:
        return [
            b["text"]
            for m in self.last
            for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
        ]

    def reply_keyboard(self) -> list[dict[str, Any]]:
        return [b for m in self.last for row in m["sent_markup"].get("keyboard", []) for b in row]

    def _check_english(self) -> None:
        if not self.english:
            return
        shown = [m["text"] for m in self.last] + self.buttons()
        shown += [b["text"] for b in self.reply_keyboard()]
        for text in shown:
            assert not CJK.search(text), f"Chinese shown to an English speaker: {text!r}"


@pytest.fixture
def chat(app_client: TestClient, fake_telegram: FakeTelegramAPI, clock: FakeClock):
    updates = TelegramUpdates(clock=clock)

    def make(person: Person, *, english: bool = True) -> EnChat:
        user = EnChat(app_client, fake_telegram, person, updates)
        user.english = english
        return user

    return make


@pytest.fixture
def deliver(app_client: TestClient, db: Database, clock: FakeClock):
    """Runs the outbox dispatcher once, as the scheduler does every few seconds; returns how many went."""

    async def run() -> int:
        services = app_client.app[SERVICES]
        return (await dispatch_due(db.uow, clock, services.messengers, translator)).sent

    return run


# ---- the world the journeys happen in -----------------------------------------------------------


async def _org(db: Database, clock: FakeClock, name: str = ORG, **changes: Any) -> int:
    async with db.uow() as uow:
        org = await make_org(uow, clock, name, **changes)
        await uow.commit()
    assert org.id is not None
    return org.id


async def _activity(db: Database, clock: FakeClock, org_id: int, **changes: Any) -> int:
    async with db.uow() as uow:
        admin = await make_admin(uow, clock)
        activity = await make_activity(uow, clock, admin, org_id, **{**PLAN, **changes})
        await uow.commit()
    assert activity.id is not None
    return activity.id


async def _staff(db: Database, clock: FakeClock, person: Person, org_id: int, language: str = "en") -> None:
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(person.id), language=language)
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org_id)
        await uow.commit()


async def _volunteer(
    db: Database,
    clock: FakeClock,
    person: Person,
    name: str,
    *,
    language: str = "en",
    org_id: int | None = None,
    phone: str = "13900000000",
) -> int:
    """A volunteer registered before the test (behind a real Telegram account); their user id."""
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(person.id), language=language)
        await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
        form = RegistrationForm(
            name=name, phone=phone, region="Gulou District, Nanjing", birth_date=date(1988, 3, 4)
        )
        await register_volunteer(uow, clock, user.id, form, policy=Policy())
        if org_id is not None:
            await request_membership(uow, clock, await load_actor(uow, user.id), org_id)
        await uow.commit()
    assert user.id is not None
    return user.id


async def _sign_up(db: Database, clock: FakeClock, user_id: int, activity_id: int, **options: Any) -> None:
    async with db.uow() as uow:
        await sign_up(uow, clock, await load_actor(uow, user_id), activity_id, **options)
        await uow.commit()


async def _register_en(
    user: EnChat,
    phone: str,
    *,
    name: str = "Alice Walker",
    birth: str = "1990-01-01",
    org: str | None = ORG,
) -> str:
    """Registration in English, every question checked on the way; the final reply."""
    text = await user.say("/start")
    assert "Hello! This is the S&T volunteer service assistant." in text
    assert user.buttons() == ["Register", "Ask for help"]  # or a need, without registering
    text = await user.press("Register")
    assert "Please choose a language:" in text and user.buttons() == ["中文", "English"]
    text = await user.press("English")
    user.english = True
    assert text.startswith("Privacy notice\nTo run volunteer services we collect your name")
    assert user.buttons() == ["I agree", "I do not agree"]
    assert await user.press("I agree") == "Please enter your birth date, format: 2000-01-31"
    assert await user.say(birth) == "Please enter your real name, e.g. Zhang San"
    assert (await user.say(name)).startswith("Tap the button to share your phone number")
    assert [b["text"] for b in user.reply_keyboard()] == ["📱 Share my phone number"]
    text = await user.share_contact(phone)
    assert "Phone number noted." in text
    assert "Choose your professional fields (several allowed, 0 chosen), then tap Done:" in text
    assert "Information technology" in user.buttons() and "Done ✔" in user.buttons()
    assert "1 chosen" in await user.press("Information technology")
    assert "✅ Information technology" in user.buttons()
    assert "Choose the kinds of service you would like to do (0 chosen)" in await user.press("Done")
    await user.press("Popular science lectures")
    assert "Please enter your region" in await user.press("Done")
    assert await user.say("Xuanwu District, Nanjing") == "Choose an organization to join:"
    assert "Not now" in user.buttons()
    text = await user.press(org or "Not now")
    assert f"You are registered, {name}! Your volunteer number is " in text
    if org:
        assert f'You have joined "{org}".' in text
    assert text.endswith("What would you like to do?")
    return text


def _number(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    assert match, text
    return match[1]


# ---- registration and the menu ------------------------------------------------------------------


async def test_registration_in_english_ends_at_an_english_menu(db, clock, chat) -> None:
    await _org(db, clock)
    alice = chat(ALICE, english=False)
    await _register_en(alice, "+86 138 1234 5678")
    menu = ["Find activities", "My activities", "My profile", "Found an organization", "Ask for help"]
    menu += ["Feedback", "Help"]
    assert [b for b in alice.buttons() if b in menu] == menu
    text = await alice.press("Help")
    assert text.startswith("The S&T volunteer service assistant helps you:")
    assert "/link link your WeChat and Telegram accounts" in text
    assert await alice.say("/start") == "Welcome back!\nWhat would you like to do?"
    assert await alice.say("/nonsense") == "There is no /nonsense command; send /help to see them."
    await alice.say("/feedback")
    assert await alice.say("/cancel") == "Cancelled.\nWhat would you like to do?"
    text = await alice.say("hello?")
    assert (
        text
        == "Sorry, I did not understand. Use the buttons below or send /help.\nWhat would you like to do?"
    )


# ---- 1. finding activities ----------------------------------------------------------------------


async def _catalogue(db: Database, clock: FakeClock) -> None:
    """Seven upcoming activities of one org: one within the week, one online, one far away (Beijing)."""
    org_id = await _org(db, clock)
    day = timedelta(days=1)
    starts = clock.now()
    online = {"mode": ActivityMode.ONLINE, "online_url": "https://meeting.example.cn/7"}
    online |= {"place_name": "", "address": "", "latitude": None, "longitude": None}
    beijing = {
        "place_name": "Capital Museum",
        "address": "16 Fuxingmennei St",
        "latitude": 39.9,
        "longitude": 116.3,
    }
    plans: dict[str, dict[str, Any]] = {
        "Robot lab": {"starts_at": starts + 3 * day, "service_content": ServiceContent.SCIENCE_EDUCATION},
        "Anti-fraud talk": {
            "starts_at": starts + 10 * day,
            "required_training": "Online safety briefing",
            "risk_level": RiskLevel.MEDIUM,
            "risks": "Crowds and heat",
            "field_work": True,
        },
        "Online astronomy night": {"starts_at": starts + 11 * day, **online},
        "Phone help for seniors": {
            "starts_at": starts + 12 * day,
            "service_content": ServiceContent.ELDERLY_TECH_HELP,
        },
        "Wetland clean-up": {
            "starts_at": starts + 13 * day,
            "service_content": ServiceContent.ECO_PROTECTION,
            "place_name": "Jiangxinzhou wetland",
            "latitude": 32.3,
            "longitude": 118.78,
        },
        "Museum tour": {
            "starts_at": starts + 14 * day,
            "service_content": ServiceContent.VENUE_GUIDING,
            **beijing,
        },
        "Star party": {"starts_at": starts + 15 * day, "service_content": ServiceContent.SCIENCE_EDUCATION},
    }
    for title, plan in plans.items():
        plan["ends_at"] = plan["starts_at"] + timedelta(hours=3)
        await _activity(db, clock, org_id, title=title, **plan)


async def test_find_lists_pages_filters_and_opens_the_card_in_english(db, clock, chat) -> None:
    await _catalogue(db, clock)
    bob = chat(BOB)  # not registered: anyone may look
    assert await bob.say("/find") == "Find activities: how would you like to search?"
    assert bob.buttons() == [
        "All upcoming",
        "Next 7 days",
        "📍 Near me",
        "Online",
        "By kind of service",
        "Main menu",
    ]

    assert await bob.press("All upcoming") == "Page 1; tap an activity for details:"
    assert bob.buttons() == [
        "12-04 09:00 Robot lab (10 left)",
        "12-11 09:00 Anti-fraud talk (10 left)",
        "12-12 09:00 Online astronomy night (10 left)",
        "12-13 09:00 Phone help for seniors (10 left)",
        "12-14 09:00 Wetland clean-up (10 left)",
        "Next page »",
        "Search again",
    ]
    assert await bob.press("Next page") == "Page 2; tap an activity for details:"
    assert bob.buttons() == [
        "12-15 09:00 Museum tour (10 left)",
        "12-16 09:00 Star party (10 left)",
        "Search again",
    ]

    await bob.press("Search again")
    await bob.press("Next 7 days")
    assert bob.buttons() == ["12-04 09:00 Robot lab (10 left)", "Search again"]
    await bob.press("Search again")
    await bob.press("Online")
    assert bob.buttons() == ["12-12 09:00 Online astronomy night (10 left)", "Search again"]

    await bob.press("Search again")
    assert await bob.press("By kind of service") == "Choose a group:"
    assert bob.buttons() == [
        "Theory and policy",
        "Technology services",
        "Science education",
        "Health and care",
        "Ecology and emergencies",
        "« Back",
    ]
    assert await bob.press("Health and care") == "Choose a kind of service:"
    assert bob.buttons() == [
        "Free health clinics",
        "Psychological education",
        "Technology help for the elderly",
        "Diet and nutrition",
        "« Back",
    ]
    await bob.press("Technology help for the elderly")
    assert bob.buttons() == ["12-13 09:00 Phone help for seniors (10 left)", "Search again"]
    await bob.press("Search again")
    await bob.press("By kind of service")
    await bob.press("Theory and policy")
    await bob.press("Theory lectures")
    assert bob.text == "No activities match right now." and bob.buttons() == ["Search again"]

    await bob.press("Search again")
    await bob.press("All upcoming")
    card = await bob.press("Anti-fraud talk")
    assert card == (
        "[Anti-fraud talk] (Recruiting)\n"
        "Kind of service: Popular science lectures\n"
        "Time: 2026-12-11 09:00 – 12:00\n"
        "Place: Xuanwu Science Centre 1 Beijing East Road, Nanjing\n"
        "Organizer: Xuanwu Science Volunteers\n"
        "What happens: A 40-minute talk, then questions\n"
        "Beneficiaries: About 80 residents\n"
        "Provided: Lunch and travel allowance\n"
        "Training required: Online safety briefing\n"
        "Risks: Crowds and heat\n"
        "⚠ Insurance required (CVST 4 5.1.4)\n"
        "Places: 10 left of 10"
    )
    assert bob.buttons() == ["Sign me up", "Search again"]
    assert await bob.press("Sign me up") == "Please register as a volunteer first; it takes two minutes."
    assert bob.buttons() == ["Register"]

    await bob.say("/find")
    await bob.press("Online")
    card = await bob.press("Online astronomy night")
    assert "Mode: Online (the link comes with the briefing)" in card and "Place:" not in card
    assert "https://meeting.example.cn" not in card


async def test_near_me_asks_for_the_location_and_lists_by_distance(db, clock, chat) -> None:
    await _catalogue(db, clock)
    bob = chat(BOB)
    await bob.say("/find")
    text = await bob.press("Near me")
    assert text == "Tap the button below to send your location; activities within 50 km will be listed."
    assert bob.reply_keyboard() == [{"text": "📍 Send my location", "request_location": True}]
    assert "Tap the button below to send your location" in await bob.say("here")  # asked again
    text = await bob.share_location(32.05, 118.78)
    assert text == "Location received.\nPage 1; tap an activity for details:"
    # Nearest first: the four at the science centre (2 km), then the wetland (28 km); not Beijing, not online.
    assert bob.buttons() == [
        "12-04 09:00 Robot lab (10 left) · 2.0km",
        "12-11 09:00 Anti-fraud talk (10 left) · 2.0km",
        "12-13 09:00 Phone help for seniors (10 left) · 2.0km",
        "12-16 09:00 Star party (10 left) · 2.0km",
        "12-14 09:00 Wetland clean-up (10 left) · 27.8km",
        "Search again",
    ]
    await bob.press("Robot lab")
    assert bob.text.startswith("[Robot lab] (Recruiting)\nKind of service: Science education\n")

    await bob.say("/find")
    await bob.press("Near me")
    assert await bob.share_location(95.0, 118.78) == (
        "The coordinates are out of range (latitude -90..90, longitude -180..180).\n"
        "Tap the button below to send your location; activities within 50 km will be listed."
    )


# ---- 2. signing up, the waitlist, cancelling, "my activities" -----------------------------------


async def test_sign_up_waitlist_cancel_and_promotion_in_english(db, clock, chat, deliver) -> None:
    org_id = await _org(db, clock)
    starts = clock.now() + timedelta(days=2)  # inside the 3 days: the briefing comes at once
    activity_id = await _activity(
        db,
        clock,
        org_id,
        title="Robot lab",
        capacity=1,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
    )
    alice = chat(ALICE, english=False)
    await _register_en(alice, "13812345678")
    await _volunteer(db, clock, BOB, "Bob Brown", phone="13912345678")
    await _volunteer(db, clock, CAROL, "Carol Chen", phone="13712345678")
    bob, carol = chat(BOB), chat(CAROL)

    card = await alice.send(alice.updates.start(f"act-{activity_id}", person=ALICE))
    assert card.startswith("[Robot lab] (Recruiting)\n") and card.endswith("Places: 1 left of 1")
    assert await alice.press("Sign me up") == (
        'You are signed up for "Robot lab", starting 2026-12-03 09:00. It begins in less than 3 days, so the '
        "briefing is right below: please read it; signing up counts as confirming you will come.\n"
        "Briefing (CVST 3 6.1.3.2)\n"
        "Activity: Robot lab\n"
        "Time: 2026-12-03 09:00\n"
        "Place: Xuanwu Science Centre\n"
        "Content: A 40-minute talk, then questions\n"
        "Beneficiaries: About 80 residents\n"
        "Provided: Lunch and travel allowance\n"
        "Training: -"
    )
    assert alice.buttons() == ["My activities"]

    card = await bob.send(bob.updates.start(f"act-{activity_id}", person=BOB))
    assert card.endswith("Places: 0 left of 1")
    assert await bob.press("Sign me up") == (
        "No places are left (capacity: 1). You can join the waitlist; places go to it in order."
    )
    assert bob.buttons() == ["Join the waitlist", "Search again"]
    assert await bob.press("Join the waitlist") == (
        'You are on the waitlist for "Robot lab", number 1. You will be told if a place frees up.'
    )

    assert await carol.say("/my") == "You have not signed up for anything yet."
    assert carol.buttons() == ["Find activities"]
    await carol.send(carol.updates.start(f"act-{activity_id}", person=CAROL))
    await carol.press("Sign me up")
    assert "number 2." in await carol.press("Join the waitlist")

    assert await bob.press("My activities") == "Coming up (tap to view or cancel):\nLooking for more?"
    assert bob.buttons() == ["12-03 09:00 Robot lab (On the waitlist)", "Find activities", "Main menu"]
    card = await bob.press("Robot lab")
    assert card.endswith("Places: 0 left of 1\nMy sign-up: On the waitlist")
    assert bob.buttons() == ["Cancel my sign-up", "Search again"]

    await alice.say("/my")
    assert alice.buttons()[0] == "12-03 09:00 Robot lab (Confirmed)"
    assert (await alice.press("Robot lab")).endswith("My sign-up: Confirmed")
    assert await alice.press("Cancel my sign-up") == (
        'Cancel your sign-up for "Robot lab" (12-03 09:00)? Your place will go to the waitlist.'
    )
    assert alice.buttons() == ["Yes, cancel", "Keep it"]
    assert await alice.press("Yes, cancel") == 'Your sign-up for "Robot lab" is cancelled.'

    assert await deliver() == 1  # the first on the waitlist, and only them: the briefing tells of the place
    assert bob.inbox() == (
        'You have a place now (from the waitlist)! Briefing (CVST 3 6.1.3.2) for "Robot lab"\n'
        "Time: 2026-12-03 09:00\n"
        "Place or link: Xuanwu Science Centre 1 Beijing East Road, Nanjing\n"
        "Content: A 40-minute talk, then questions\n"
        "Beneficiaries: About 80 residents\n"
        "Provided: Lunch and travel allowance\n"
        "Training: -\n"
        'Please press "I\'ll be there" before 2026-12-01 21:00; without an answer by then the place goes '
        'to the next on the waitlist. If you cannot come, press "I can\'t come".'
    )
    assert bob.buttons() == ["✅ I'll be there", "❌ I can't come", "View the activity"]
    assert (await bob.press("View the activity")).endswith("My sign-up: Confirmed")
    assert carol.inbox() == ""
    await carol.say("/my")
    assert carol.buttons()[0] == "12-03 09:00 Robot lab (On the waitlist)"

    assert await alice.say("/my") == "History:\n· 2026-12-03 Robot lab (Cancelled)\nLooking for more?"


async def test_refusals_say_why_in_english(db, clock, chat) -> None:
    org_id = await _org(db, clock)
    clinic = await _activity(
        db, clock, org_id, title="Free clinic", service_content=ServiceContent.HEALTH_CLINIC
    )
    drill = await _activity(
        db, clock, org_id, title="Flood rescue drill", service_content=ServiceContent.EMERGENCY_RESCUE
    )
    young = chat(CAROL, english=False)
    await _register_en(young, "13712345678", name="Carol Chen", birth="2010-03-01", org=None)

    card = await young.send(young.updates.start(f"act-{clinic}", person=CAROL))
    assert "Qualifications required: Licensed physician" in card
    assert await young.press("Sign me up") == (
        "This activity needs a recorded qualification (Licensed physician), which your profile does not have."
        " If you hold it, please show the certificate and your volunteer number (under My profile) to the"
        " activity's organizer: once they have recorded it, you can sign up."
    )
    assert young.buttons() == ["Main menu"]

    card = await young.send(young.updates.start(f"act-{drill}", person=CAROL))
    assert "Kind of service: Emergency rescue" in card
    assert "Age: 18 or over\n⚠ Insurance required (CVST 4 5.1.4)\nPlaces: 10 left of 10" in card
    assert await young.press("Sign me up") == (
        "This activity requires insurance (e.g. accident cover). Are you insured?"
    )
    assert young.buttons() == ["I am insured, sign me up", "Cancel"]
    assert await young.press("I am insured") == (
        "This activity is hazardous and open only to volunteers aged 18 or over."
    )

    adult = chat(ALICE)
    await _volunteer(db, clock, ALICE, "Alice Walker")
    await adult.send(adult.updates.start(f"act-{drill}", person=ALICE))
    await adult.press("Sign me up")
    assert (await adult.press("I am insured")).startswith('You are signed up for "Flood rescue drill"')


async def test_the_organizer_records_the_qualification_the_refusal_asked_for(
    db, clock, chat, deliver
) -> None:
    """3-6.1.3.1: the volunteer shows the certificate and their number; staff record it in chat, the
    volunteer is told, and the sign-up that was refused goes through."""
    org_id = await _org(db, clock)
    clinic = await _activity(
        db, clock, org_id, title="Free clinic", service_content=ServiceContent.HEALTH_CLINIC
    )
    await _staff(db, clock, STAFF, org_id)
    doctor = chat(ALICE)
    await _volunteer(db, clock, ALICE, "Alice Walker", phone="13912345678")
    await doctor.send(doctor.updates.start(f"act-{clinic}", person=ALICE))
    assert "needs a recorded qualification (Licensed physician)" in await doctor.press("Sign me up")
    number = _number(await doctor.say("/profile"), r"Volunteer number: (KJ\d+)")
    assert "Qualifications (checked by an organizer): -" in doctor.text

    staff = chat(STAFF)
    await staff.say("/organizer")
    assert await staff.press("Record a qualification") == (
        "Please send the volunteer's number (they see it under My profile), for example: KJ20260000123.\n"
        "Check the original certificate before you record it."
    )
    assert await staff.say("KJ123") == (
        "There is no registered volunteer with the number KJ123. Please check it and send it again,"
        " for example: KJ20260000123."
    )
    card = await staff.say(number)
    assert card.startswith(
        f"Volunteer: Alice Walker ({number})\nPhone: 139****5678\nQualifications on record: -\n\n"
        "Tap a qualification to record it"
    )
    assert "+ Licensed physician" in staff.buttons() and "Another volunteer" in staff.buttons()
    text = await staff.press("+ Licensed physician")
    assert text.startswith("Recorded for Alice Walker: Licensed physician.")
    assert "Qualifications on record: Licensed physician" in text
    assert "✓ Licensed physician" in staff.buttons()

    assert await deliver() == 1
    told = doctor.new_messages()[-1]["text"]
    assert told.startswith("An organizer has checked and recorded a qualification for you")
    assert "Qualifications (checked by an organizer): Licensed physician" in await doctor.say("/profile")
    await doctor.send(doctor.updates.start(f"act-{clinic}", person=ALICE))
    assert (await doctor.press("Sign me up")).startswith('You are signed up for "Free clinic"')


async def test_signing_up_again_names_the_sign_up_status_in_english(db, clock, chat) -> None:
    """An old "Sign me up" or "Join the waitlist" button pressed again: the refusal names the status as
    the volunteer knows it ("Confirmed", "On the waitlist"), not by its internal code."""
    org_id = await _org(db, clock)
    activity_id = await _activity(db, clock, org_id, title="Robot lab", capacity=1)
    await _volunteer(db, clock, ALICE, "Alice Walker")
    await _volunteer(db, clock, BOB, "Bob Brown")
    alice, bob = chat(ALICE), chat(BOB)

    await alice.send(alice.updates.start(f"act-{activity_id}", person=ALICE))
    card = alice.last
    await alice.press("Sign me up")
    await bob.send(bob.updates.start(f"act-{activity_id}", person=BOB))
    await bob.press("Sign me up")
    offer = bob.last
    assert "number 1." in await bob.press("Join the waitlist")

    alice.last, bob.last = card, offer  # the same buttons, pressed a second time
    again = (await alice.press("Sign me up"), await bob.press("Join the waitlist"))
    assert again == (
        "You have already signed up (Confirmed).",
        "You have already signed up (On the waitlist).",
    )


async def test_the_briefing_promised_at_sign_up_comes_three_days_before(db, clock, chat, deliver) -> None:
    """Signed up more than 3 days ahead, the volunteer is promised a briefing 3 days before (and, online,
    the link to join): it must reach them then (CVST 3 6.1.3.2), through the outbox."""
    org_id = await _org(db, clock)
    starts = clock.now() + timedelta(days=11)
    online = {"mode": ActivityMode.ONLINE, "online_url": "https://meeting.example.cn/7"}
    online |= {"place_name": "", "address": "", "latitude": None, "longitude": None}
    activity_id = await _activity(
        db,
        clock,
        org_id,
        title="Online astronomy night",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        **online,
    )
    await _volunteer(db, clock, ALICE, "Alice Walker")
    alice = chat(ALICE)
    card = await alice.send(alice.updates.start(f"act-{activity_id}", person=ALICE))
    assert "Mode: Online (the link comes with the briefing)" in card
    assert await alice.press("Sign me up") == (
        'You are signed up for "Online astronomy night", starting 2026-12-12 09:00. '
        "A briefing comes 3 days before."
    )

    clock.advance(days=8, minutes=1)  # 3 days before the start
    await deliver()
    briefing = alice.inbox()
    assert "Online astronomy night" in briefing and "https://meeting.example.cn/7" in briefing, briefing


# ---- 3. deep links: act-, org-, need-, survey-, vsurvey- ------------------------------------------


async def test_unknown_deep_links_say_so_in_english(db, clock, chat) -> None:
    await _org(db, clock)
    bob = chat(BOB)
    assert await bob.send(bob.updates.start("act-999", person=BOB)) == (
        "That activity was not found; the link may be wrong."
    )
    assert bob.buttons() == ["Main menu"]
    await _volunteer(db, clock, BOB, "Bob Brown")
    assert await bob.send(bob.updates.start("org-999", person=BOB)) == (
        "That organization was not found or is not approved yet."
    )
    assert await bob.send(bob.updates.start("need-999", person=BOB)) == (
        "That organization was not found or is not approved yet."
    )


async def test_org_invitation_link_and_the_staff_review_of_the_request(
    db, clock, chat, deliver, fake_telegram
) -> None:
    open_org = await _org(db, clock)
    closed_org = await _org(db, clock, "Gulou Robotics Team", join_requires_approval=True)
    await _staff(db, clock, STAFF, closed_org)
    await _volunteer(db, clock, ALICE, "Alice Walker", phone="13812345678")
    alice, staff = chat(ALICE), chat(STAFF)

    await staff.say(f"/qr org-{closed_org}")  # the invitation, printed or shown on site
    (qr,) = fake_telegram.calls("sendPhoto")
    assert qr.params["photo"].data.startswith(b"\x89PNG")
    assert qr.params["caption"] == (
        'Join "Gulou Robotics Team"\nScan the QR code or open the link to ask to join:\n'
        f"https://t.me/{TEST_BOT_USERNAME}?start=org-{closed_org}"
    )

    assert await alice.send(alice.updates.start(f"org-{open_org}", person=ALICE)) == (
        'You have joined "Xuanwu Science Volunteers".'
    )
    assert await alice.send(alice.updates.start(f"org-{closed_org}", person=ALICE)) == (
        'Your request to join "Gulou Robotics Team" is sent; you will be told when it is approved.'
    )

    assert await staff.say("/reviews") == (
        "To review — organization applications: 0; requests to join: 1. Tap one to open it:"
    )
    assert staff.buttons() == ["Join: Alice Walker → Gulou Robotics Team", "Main menu"]
    card = await staff.press("Join: Alice Walker")
    assert card.startswith("Request to join\nOrganization: Gulou Robotics Team\nName: Alice Walker\n")
    assert "Phone: 13812345678\nRegion: Gulou District, Nanjing\nFields: -\nService areas: -\n" in card
    assert card.endswith("Requested: 2026-12-01 09:00")
    assert staff.buttons() == ["✅ Approve", "❌ Reject", "« Reviews"]
    assert (
        await staff.press("Approve") == "Alice Walker may now join “Gulou Robotics Team”; they will be told."
    )

    assert await deliver() == 1
    assert alice.inbox() == "Good news: “Gulou Robotics Team” accepted your request to join. Welcome!"
    text = await alice.say("/profile")
    assert "Organizations: Xuanwu Science Volunteers (member), Gulou Robotics Team (member)" in text

    newcomer = chat(CAROL, english=False)
    text = await newcomer.send(newcomer.updates.start(f"org-{open_org}", person=CAROL))
    assert text == "请选择语言 / Please choose a language:"  # registration comes first


async def test_need_link_opens_the_form_addressed_to_the_org_and_staff_handle_it(
    db, clock, chat, deliver
) -> None:
    org_id = await _org(db, clock)
    await _staff(db, clock, STAFF, org_id)
    bob, staff = chat(BOB), chat(STAFF)

    text = await bob.send(bob.updates.start(f"need-{org_id}", person=BOB))
    assert text.startswith(
        "Send a service need to “Xuanwu Science Volunteers” (CVST 3-6.1.1). No registration"
    )
    assert "12 short questions" in text
    assert "Step 1: who is asking?" in text and bob.buttons() == ["Cancel"]
    assert (await bob.say("Meiyuan Street Community Centre")).startswith("Step 2: privacy")
    assert bob.buttons() == ["I agree", "I do not agree"]
    assert (await bob.press("I agree")).startswith("Step 3: type a contact phone")
    assert (await bob.say("12345")).startswith("That phone number is not valid.")  # and asked again
    assert (await bob.say("13812345678")).startswith("Step 4: describe what you need")
    assert (await bob.say("A talk on phone scams for older residents")).startswith(
        "Step 5: pick the area of the service"
    )
    assert (await bob.press("Health and care")).startswith("Step 6: pick the kind of service")
    assert (await bob.press("Technology help for the elderly")).startswith("Step 7: who is to be served?")
    assert bob.buttons()[0] == "The public"
    assert (await bob.press("The public")).startswith("Step 8: how many volunteers are needed?")
    assert (await bob.say("5")).startswith("Step 9: which expertise should the volunteers have?")
    await bob.press("Psychology")
    assert "✅ Psychology" in bob.buttons()
    assert (await bob.press("Done")).startswith("Step 10: how should the service be given?")
    assert (await bob.press("Offline")).startswith("Step 11: when would you like the service")
    assert (await bob.say("Saturday mornings in December")).startswith("Step 12: where should it take place")
    assert await bob.say("Meiyuan Street community hall") == (
        "Please check your need:\n"
        "Requester: Meiyuan Street Community Centre\n"
        "Contact phone: 13812345678\n"
        "What is needed: A talk on phone scams for older residents\n"
        "Kind of service: Technology help for the elderly\n"
        "Served: The public\n"
        "Volunteers: 5\n"
        "Expertise: Psychology\n"
        "Mode: Offline\n"
        "Preferred time: Saturday mornings in December\n"
        "Place: Meiyuan Street community hall\n"
        "Sent to: Xuanwu Science Volunteers\n\n"
        "If all is right choose “Submit need”; to change an answer choose “Change”; to drop the need choose “Cancel”."
    )
    text = await bob.press("Submit need")
    number = _number(text, r"number #(\d+)")
    assert text == (
        f"Your need was sent (number #{number})! You will be told when it is reviewed and when an org takes it."
    )

    assert await deliver() == 1
    assert staff.inbox() == (
        f"A new service need #{number} (from Meiyuan Street Community Centre) is waiting for your review."
    )
    await staff.say("/organizer")
    assert await staff.press("Needs") == "Needs waiting for you (1); tap one to open it:"
    labels = staff.buttons()
    assert labels[0].startswith(f"#{number} waiting for review · Meiyuan Street Community Centre · ")
    assert labels[1:] == ["Main menu"]
    card = await staff.press(f"#{number}")
    assert card.startswith(
        f"Need #{number} (waiting for review)\nRequester: Meiyuan Street Community Centre\n"
    )
    assert "Contact phone: 138****5678\n" in card  # reviewers see it partly hidden
    assert staff.buttons() == ["✅ Approve", "❌ Reject", "« Needs"]
    text = await staff.press("Approve")
    assert text.startswith(f"Need #{number} is approved and published; an org may take it now.\n")
    assert staff.buttons() == ["Take for “Xuanwu Science Volunteers”", "« Needs"]
    text = await staff.press("Take for")
    assert text.startswith(f"You took need #{number}; the requester was told.")
    assert "Contact phone: 13812345678\n" in text and "Taken by: Xuanwu Science Volunteers\n" in text

    assert await deliver() == 2
    assert bob.inbox() == (
        f"Your need #{number} was approved and published; you will be told when an org takes it.\n"
        f"Your need #{number} was taken by “Xuanwu Science Volunteers”; "
        "they will call the phone you left to arrange the service."
    )


async def test_survey_links_for_those_served_and_for_volunteers(db, clock, chat) -> None:
    org_id = await _org(db, clock)
    activity_id = await _activity(db, clock, org_id, title="Robot lab")
    await _staff(db, clock, STAFF, org_id)
    alice_id = await _volunteer(db, clock, ALICE, "Alice Walker")
    await _sign_up(db, clock, alice_id, activity_id)
    bob, alice, staff = chat(BOB), chat(ALICE), chat(STAFF)

    assert await bob.send(bob.updates.start(f"survey-{activity_id}", person=BOB)) == (
        "“Robot lab” has not started yet; please come back once the service has begun."
    )
    clock.advance(days=10, hours=2)  # the activity is under way

    text = await bob.send(bob.updates.start(f"survey-{activity_id}", person=BOB))
    assert text == (
        "Satisfaction survey for those served by “Robot lab” (CVST 3-8.1.2.1): 5 questions, each rated "
        "1 to 5 (5 = very satisfied), then an optional comment. No registration needed; one answer per person.\n"
        "(1/5) How satisfied are you with how the service was organised?\n"
        "Pick a score from 1 to 5 (5 = very satisfied), e.g. 5"
    )
    assert bob.buttons() == [
        "1 Very dissatisfied",
        "2 Dissatisfied",
        "3 Neutral",
        "4 Satisfied",
        "5 Very satisfied",
    ]
    assert (await bob.say("9")).startswith(
        "Please press a score button from 1 to 5, or type a number from 1 to 5, e.g. 5.\n(1/5)"
    )
    assert "(2/5) How satisfied are you with the way the volunteers served you?" in await bob.press("5")
    await bob.press("4")
    await bob.say("5")  # typed works as well as pressed
    await bob.press("5")
    text = await bob.press("3")
    assert text.startswith("Last, any comments or suggestions?") and bob.buttons() == ["Skip"]
    assert await bob.say("Very clear, thank you") == "Thank you! Your answers help us improve the service."
    assert await bob.send(bob.updates.start(f"survey-{activity_id}", person=BOB)) == (
        "You have answered this survey of “Robot lab” already; each person answers once. Thank you!"
    )
    assert await bob.send(bob.updates.start(f"vsurvey-{activity_id}", person=BOB)) == (
        "The volunteers' survey is for volunteers confirmed for or present at “Robot lab”. "
        "If you were served by it, please use the beneficiaries' survey link instead."
    )

    text = await alice.send(alice.updates.start(f"vsurvey-{activity_id}", person=ALICE))
    assert text.startswith("Volunteers' satisfaction survey for “Robot lab” (CVST 3-8.1.2.2): 3 questions")
    assert text.endswith(
        "(1/3) How satisfied are you with the training before the activity?\n"
        "Pick a score from 1 to 5 (5 = very satisfied), e.g. 5"
    )
    assert "(2/3) How much did you gain from taking part?" in await alice.press("4")
    assert "(3/3) How much do you identify with your org?" in await alice.press("5")
    await alice.press("5")
    assert await alice.press("Skip") == "Thank you! Your answers help us improve the service."

    assert await staff.say(f"/stats act-{activity_id}") == (
        f"Satisfaction: “Robot lab” (activity #{activity_id})\n"
        "\n[Beneficiaries' satisfaction] responses: 1\n"
        "Process: average 5.00, satisfied (4–5) 100%\n"
        "Manner: average 4.00, satisfied (4–5) 100%\n"
        "Attitude: average 5.00, satisfied (4–5) 100%\n"
        "Expertise: average 5.00, satisfied (4–5) 100%\n"
        "Skill: average 3.00, satisfied (4–5) 0%\n"
        "Latest comments:\n"
        "- Very clear, thank you\n"
        "\n[Volunteers' satisfaction] responses: 1\n"
        "Training: average 4.00, satisfied (4–5) 100%\n"
        "Sense of gain: average 5.00, satisfied (4–5) 100%\n"
        "Identification with the org: average 5.00, satisfied (4–5) 100%"
    )


# ---- 4. the organizer ---------------------------------------------------------------------------


async def _roster(db: Database, clock: FakeClock) -> int:
    """Robot lab, 2 places: Alice (English) and Wang (Chinese) confirmed, Bob (English) on the waitlist;
    STAFF (English) runs the org."""
    org_id = await _org(db, clock)
    activity_id = await _activity(db, clock, org_id, title="Robot lab", capacity=2)
    await _staff(db, clock, STAFF, org_id)
    for person, name, language, phone in (
        (ALICE, "Alice Walker", "en", "13812345678"),
        (WANG, "Wang Fang", "zh_CN", "13612345678"),
        (BOB, "Bob Brown", "en", "13912345678"),
    ):
        user_id = await _volunteer(db, clock, person, name, language=language, phone=phone)
        await _sign_up(db, clock, user_id, activity_id, join_waitlist=True)
    return activity_id


async def test_organizer_sees_sign_ups_edits_and_marks_attendance_in_english(
    db, clock, chat, deliver
) -> None:
    activity_id = await _roster(db, clock)
    staff, alice, bob = chat(STAFF), chat(ALICE), chat(BOB)
    wang = chat(WANG, english=False)

    assert await staff.say("/organizer") == "Organizer tools: what would you like to do?"
    assert {"Publish an activity", "Our activities", "Reviews", "Needs", "Feedback", "Main menu"} <= set(
        staff.buttons()
    )
    assert await staff.press("Our activities") == "Our recent and upcoming activities:"
    assert staff.buttons() == ["12-11 09:00 Robot lab (Recruiting)", "Organizer menu"]
    assert await staff.press("Robot lab") == (
        "[Robot lab] (Recruiting)\n"
        "Time: 2026-12-11 09:00\n"
        "Place: Xuanwu Science Centre\n"
        "Places: 2; confirmed 2, waitlist 1, awaiting approval 0, attended 0\n"
        f"Recruitment link: https://t.me/{TEST_BOT_USERNAME}?start=act-{activity_id}"
    )
    assert {
        "Sign-ups",
        "Attendance",
        "Export the list",
        "Satisfaction",
        "Survey QR code",
        "Edit",
        "Cancel the activity",
        "Our activities",
    } <= set(staff.buttons())
    assert await staff.press("Sign-ups") == (
        'Sign-ups for "Robot lab":\n'
        "Coming 0 · to confirm 2 · cancelled/can't come 0 · waitlist 1\n"
        "1. Alice Walker 138****5678 ⏳ to confirm\n"
        "2. Wang Fang 136****5678 ⏳ to confirm\n"
        "3. Bob Brown 139****5678 On the waitlist"
    )

    await staff.press("View the activity")
    assert await staff.press("Edit") == 'What would you like to change in "Robot lab"?'
    assert staff.buttons() == [
        "Title",
        "Time",
        "Place",
        "Places",
        "Purpose",
        "Content",
        "Beneficiaries",
        "Provided",
        "Training",
        "Risks and emergency plan",
        "View the activity",
    ]
    assert await staff.press("Time") == "When does it start? Format: 2026-12-08 09:00"
    assert await staff.say("next Friday") == (
        "That time is not in the right format; write it like 2026-12-08 09:00.\n"
        "When does it start? Format: 2026-12-08 09:00"
    )
    assert (await staff.say("2026-12-12 14:00")).startswith("When does it end?")
    text = await staff.say("17:00")
    assert text.startswith(
        '"Robot lab" is updated. Signed-up volunteers are told when the time or place changes.\n'
        "[Robot lab] (Recruiting)\nTime: 2026-12-12 14:00\n"
    )

    assert await deliver() == 3  # everyone with a live sign-up, the waitlist included
    changed = (
        '"Robot lab" has a new time or place: now 2026-12-12 14:00, Xuanwu Science Centre. '
        "If you cannot come, please cancel your sign-up."
    )
    assert alice.inbox() == changed and bob.inbox() == changed
    assert alice.buttons() == ["View the activity"]
    assert (
        wang.inbox()
        == "“Robot lab”的时间或地点有变：现在是 2026-12-12 14:00，Xuanwu Science Centre。如不能参加，请及时取消报名。"
    )

    await staff.press("Edit")
    assert await staff.press("Places") == "How many volunteers are needed? A number from 1 to 10000, e.g. 20"
    assert await staff.say("lots") == (
        "Please enter a whole number from 1 to 10000, e.g. 20\n"
        "How many volunteers are needed? A number from 1 to 10000, e.g. 20"
    )
    text = await staff.say("3")
    assert "Places: 3; confirmed 3, waitlist 0, awaiting approval 0, attended 0" in text
    assert await deliver() == 1
    assert bob.inbox() == (
        'Good news: you now have a place in "Robot lab" (2026-12-12 14:00). If you cannot come, please cancel.'
    )

    assert await staff.press("Attendance") == (
        'Attendance for "Robot lab": ⬜ not in · 🟢 in · ✅ out · ❌ absent\n'
        "Pick a volunteer to check them in or out by hand (recorded as manual)."
    )
    people = ["Alice Walker", "Wang Fang", "Bob Brown"]
    tools = ["Check-in code", "Confirm hours", "View the activity"]
    assert (
        staff.buttons() == [f"{x}" for p in people for x in (f"⬜ {p} · check in", f"{p} · absent")] + tools
    )
    assert await staff.press("Alice Walker · check in") == (
        "Check-in is not open yet. It opens at 2026-12-12 13:00 (the activity starts at 2026-12-12 14:00)."
    )
    clock.advance(days=11, hours=6)  # 15:00 on the day: under way
    await staff.say("/organizer")
    await staff.press("Our activities")
    await staff.press("Robot lab")
    await staff.press("Attendance")
    await staff.press("Alice Walker · check in")
    await staff.press("Bob Brown · absent")
    assert staff.buttons() == [
        "🟢 Alice Walker · check out",
        "⬜ Wang Fang · check in",
        "Wang Fang · absent",
        "❌ Bob Brown · check in",
        *tools,
    ]
    text = await staff.press("View the activity")
    assert "Places: 3; confirmed 3, waitlist 0, awaiting approval 0, attended 1" in text
    await staff.press("Sign-ups")
    assert staff.text.endswith(
        "1. Alice Walker 138****5678 Attended\n2. Wang Fang 136****5678 Confirmed\n3. Bob Brown 139****5678 Absent"
    )


async def test_organizer_cancels_with_a_reason_and_each_volunteer_is_told_in_their_language(
    db, clock, chat, deliver
) -> None:
    activity_id = await _roster(db, clock)
    staff, alice, bob = chat(STAFF), chat(ALICE), chat(BOB)
    wang = chat(WANG, english=False)
    await alice.send(alice.updates.start(f"act-{activity_id}", person=ALICE))
    old_card = alice.last

    await staff.send(staff.updates.start(f"act-{activity_id}", person=STAFF))
    assert staff.buttons() == ["Sign me up", "QR code", "Search again"]  # staff get the QR code on the card
    await staff.say("/organizer")
    await staff.press("Our activities")
    await staff.press("Robot lab")
    assert await staff.press("Cancel the activity") == (
        'Why is "Robot lab" cancelled? Every signed-up volunteer will be told. '
        "E.g. postponed for a rainstorm warning"
    )
    assert staff.buttons() == ["View the activity"]
    assert await staff.say("Rainstorm warning") == (
        '"Robot lab" is cancelled; the signed-up volunteers are being told.'
    )
    assert staff.buttons() == ["Organizer menu"]

    assert await deliver() == 3
    cancelled = 'Sorry, "Robot lab" (2026-12-11 09:00) is cancelled. Reason: Rainstorm warning'
    assert alice.inbox() == cancelled and bob.inbox() == cancelled
    assert wang.inbox() == "很抱歉，“Robot lab”（2026-12-11 09:00）已取消。原因：Rainstorm warning"

    alice.last = old_card
    assert (await alice.press("Cancel my sign-up")) == "That sign-up was not found."
    card = await alice.send(alice.updates.start(f"act-{activity_id}", person=ALICE))
    assert card.startswith("[Robot lab] (Cancelled)\n") and alice.buttons() == ["Search again"]
    assert await alice.say("/my") == "History:\n· 2026-12-11 Robot lab (Cancelled)\nLooking for more?"

    await staff.press("Organizer menu")
    await staff.press("Our activities")
    assert staff.buttons()[0] == "12-11 09:00 Robot lab (Cancelled)"
    text = await staff.press("Robot lab")
    assert text.startswith("[Robot lab] (Cancelled)\n")
    assert "Edit" not in staff.buttons() and "Cancel the activity" not in staff.buttons()


async def test_org_application_in_english_reviewed_by_the_parent_orgs_staff(db, clock, chat, deliver) -> None:
    parent_id = await _org(db, clock, PARENT, kind=OrgKind.ASSOCIATION)
    await _staff(db, clock, STAFF, parent_id)
    await _volunteer(db, clock, ALICE, "Alice Walker", phone="13812345678")
    alice, staff = chat(ALICE), chat(STAFF)

    assert await alice.say("/organizer") == "Only staff of this organization can do this."
    await alice.say("/menu")
    alice.english = False  # step 1 names the forbidden Chinese words of the naming rule (CVST 1 5.2)
    text = await alice.press("Found an organization")
    alice.english = True
    assert text.startswith("Apply to found an S&T volunteer organization (CVST 1 5.3).")
    assert "Step 1: type the organization's name" in text and alice.buttons() == ["Cancel"]
    assert (await alice.say("Riverside Robotics Volunteer Team")).startswith("Step 2: choose the kind")
    assert alice.buttons() == ["Volunteer team", "Volunteer association", "Cancel"]
    text = await alice.press("Volunteer team")
    assert text == "Step 3: choose the parent organization; it reviews your application:"
    assert PARENT in alice.buttons()
    assert (await alice.press(PARENT)).startswith("Step 4: type the field of service")
    assert (await alice.say("Popular science")).startswith("Step 5: choose the service items")
    await alice.press("Science education")
    assert "✅ Science education" in alice.buttons()
    assert (await alice.press("Done")).startswith("Step 6: type what the organization requires")
    assert (await alice.say("One activity a month")).startswith("Step 7: type the leader's name")
    assert (await alice.say("Alice Walker")).startswith("Step 8: type the leader's mobile number")
    assert (await alice.say("13812345678")).startswith("Step 9: type the current number of members")
    assert await alice.say("twelve") == (
        "The number of members must be a whole number from 1 to 100000 (digits only); please type it again.\n"
        "Step 9: type the current number of members (a whole number from 1 to 100000), e.g. 30"
    )
    assert await alice.say("12") == (
        "Please check your application:\n"
        "Name: Riverside Robotics Volunteer Team\n"
        "Kind: Volunteer team\n"
        f"Parent organization: {PARENT}\n"
        "Field of service: Popular science\n"
        "Service items: Science education\n"
        "Requirements: One activity a month\n"
        "Leader: Alice Walker\n"
        "Contact: 13812345678\n"
        "Members: 12\n\n"
        "Press “Submit” if it is right; to change something press “Cancel” and start again."
    )
    assert alice.buttons() == ["Submit", "Cancel"]
    assert await alice.press("Submit") == (
        f"Application submitted! “{PARENT}” will review “Riverside Robotics Volunteer Team”, "
        "and you will be told the result."
    )

    assert await deliver() == 1
    assert staff.inbox() == (
        "A new organization application awaits your review: “Riverside Robotics Volunteer Team” "
        f"(leader: Alice Walker) applies to be under “{PARENT}” (CVST 1 5.4)."
    )
    assert staff.buttons() == ["Review"]
    assert await staff.press("Review") == (
        "Organization application (CVST 1 5.3)\n"
        "Name: Riverside Robotics Volunteer Team\n"
        "Kind: Volunteer team\n"
        f"Parent organization: {PARENT}\n"
        "Field of service: Popular science\n"
        "Service items: Science education\n"
        "Requirements: One activity a month\n"
        "Leader: Alice Walker\n"
        "Contact: 13812345678\n"
        "Members: 12\n"
        "Applied: 2026-12-01 09:00"
    )
    review = staff.last
    assert staff.buttons() == ["✅ Approve", "❌ Reject", "« Reviews"]
    assert await staff.press("Approve") == (
        "“Riverside Robotics Volunteer Team” is approved; the applicant will be told."
    )
    staff.last = review
    assert await staff.press("Reject") == (
        "“Riverside Robotics Volunteer Team” has been dealt with already; status: Approved."
    )

    assert await deliver() == 1
    assert alice.inbox() == (
        "Good news: “Riverside Robotics Volunteer Team”, the organization you applied to found, has been approved."
    )
    # The founder runs the new org.
    assert await alice.say("/organizer") == "Organizer tools: what would you like to do?"


async def test_a_rejected_org_application_reaches_the_applicant_with_the_reason(
    db, clock, chat, deliver
) -> None:
    parent_id = await _org(db, clock, PARENT, kind=OrgKind.ASSOCIATION)
    await _staff(db, clock, STAFF, parent_id)
    bob_id = await _volunteer(db, clock, BOB, "Bob Brown", phone="13912345678")
    async with db.uow() as uow:
        form = org_form(
            "Green Hills Team",
            parent_id=parent_id,
            service_field="Ecology",
            requirements="Love of nature",
            leader_name="Bob Brown",
            leader_contact="13912345678",
        )
        await submit_org_application(uow, clock, await load_actor(uow, bob_id), form)
        await uow.commit()
    bob, staff = chat(BOB), chat(STAFF)
    assert await deliver() == 1
    assert "“Green Hills Team” (leader: Bob Brown)" in staff.inbox()

    assert await staff.say("/reviews") == (
        "To review — organization applications: 1; requests to join: 0. Tap one to open it:"
    )
    assert staff.buttons() == ["Organization: Green Hills Team", "Main menu"]
    await staff.press("Green Hills Team")
    assert await staff.press("Reject") == (
        "Type the reason for rejecting “Green Hills Team”; the applicant will see it. E.g. the name does not "
        "follow the naming rules, please change it and apply again"
    )
    assert await staff.say("A team of that name works nearby; please choose another") == (
        "“Green Hills Team” is rejected; the applicant will be told the reason: "
        "A team of that name works nearby; please choose another"
    )
    assert await staff.press("Reviews") == (
        "Nothing awaits your review: no organization applications, no requests to join."
    )

    assert await deliver() == 1
    assert bob.inbox() == (
        "Sorry, “Green Hills Team”, the organization you applied to found, was not approved. "
        "Reason: A team of that name works nearby; please choose another\n"
        "You may change it accordingly and apply again (see the option below)."
    )
    assert bob.buttons() == ["Found an organization"]
    bob.english = False  # step 1 names the forbidden Chinese words of the naming rule
    assert "Step 1: type the organization's name" in await bob.press("Found an organization")


# ---- 5. feedback --------------------------------------------------------------------------------


async def test_feedback_is_answered_by_staff_and_the_reply_reaches_the_volunteer(
    db, clock, chat, deliver
) -> None:
    org_id = await _org(db, clock)
    await _staff(db, clock, STAFF, org_id)
    await _volunteer(db, clock, ALICE, "Alice Walker", org_id=org_id)
    alice, staff = chat(ALICE), chat(STAFF)

    await alice.say("/menu")
    assert await alice.press("Feedback") == (
        "Type your opinion or suggestion (up to 2000 characters); staff will answer you."
        " For example: I would like the notices a week earlier."
    )
    assert alice.buttons() == ["File a complaint", "Cancel"]  # 1-6.1.2 d: complaints start here too
    text = await alice.say("Please announce activities a week ahead")
    number = _number(text, r"number (\d+);")
    assert text == f"Thank you! Your feedback is number {number}; you will be told when staff answer."

    await staff.say("/organizer")
    assert await staff.press("Feedback") == (
        "Feedback waiting for an answer (oldest first, up to 1); tap one to read and reply:"
    )
    assert staff.buttons() == [f"#{number} 12-01 Please announce activit…", "Main menu"]
    assert await staff.press(f"#{number}") == (
        f"Feedback #{number}\n"
        "From: Alice Walker\n"
        "Organization: Xuanwu Science Volunteers\n"
        "Sent: 2026-12-01 09:00\n"
        "Text: Please announce activities a week ahead"
    )
    assert staff.buttons() == ["Reply", "« Feedback to answer"]
    assert (await staff.press("Reply")).startswith(
        f"Type your reply to feedback #{number} (at most 2000 characters); its author will receive it."
    )
    assert await staff.say("Thank you, we will from January on") == (
        f"Feedback #{number} is answered and closed; its author will receive your reply."
    )
    assert await staff.press("Feedback to answer") == "No feedback is waiting for an answer."

    assert await deliver() == 1
    assert alice.inbox() == (
        f"Your feedback (No. {number}) has been answered.\n"
        "You wrote: Please announce activities a week ahead\n"
        "Reply: Thank you, we will from January on"
    )


# ---- 6. linking another app ---------------------------------------------------------------------

OPENID = "oWx_en_journey_openid_0001"


async def _wechat(app_client: TestClient, openid: str, command: str, args: str = "") -> str:
    """A turn of the same conversation from WeChat (the other app), in its text."""
    outgoing = await app_client.app[SERVICES].conversation.handle(
        Incoming(Channel.WECHAT, openid, Command(command, args) if command else Text(args))
    )
    assert outgoing is not None
    text = "\n".join(r.text for r in outgoing.replies if isinstance(r, Say))
    assert not CJK.search(text), f"Chinese shown to an English speaker: {text!r}"
    return text


async def test_link_gives_a_code_in_english_and_the_other_app_redeems_it(db, clock, chat, app_client) -> None:
    await _org(db, clock)
    alice = chat(ALICE, english=False)
    await _register_en(alice, "13812345678")
    await alice.say("/profile")
    text = await alice.press("Link another app")
    code = _number(text, r"^Your link code: (\d{6})\n")
    assert text == (
        f"Your link code: {code}\n"
        "Valid for 10 minutes (until 09:10), once only.\n\n"
        "In the other app (WeChat or Telegram), send this service:\n"
        f"/link {code}\n\n"
        "Afterwards both apps use the same volunteer profile. Do not share this code with anyone."
    )
    assert alice.buttons() == ["Main menu"]

    text = await _wechat(app_client, OPENID, "link", code)
    assert text.startswith(
        "Linked: this account now uses your volunteer profile.\nMy profile\nName: Alice Walker\n"
    )
    assert "Phone: 13812345678" in text  # the profile, and in the volunteer's language, English
    assert await _wechat(app_client, OPENID, "link", code) == (
        "That link code has been used already; each code works once. Send /link in the other app to get a new one."
    )


async def test_an_english_newcomer_links_to_a_profile_made_in_the_other_app(
    db, clock, chat, app_client
) -> None:
    await _org(db, clock)
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.WECHAT, OPENID, language="en")
        await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
        form = RegistrationForm(name="Bob Brown", phone="13912345678", region="Gulou District, Nanjing")
        await register_volunteer(uow, clock, user.id, form, policy=Policy())
        await uow.commit()
    code = _number(await _wechat(app_client, OPENID, "link"), r"/link (\d{6})")

    bob = chat(BOB)
    assert await bob.say("/link") == (
        "Please send the 6-digit link code you got in the other app, for example: 123456 (or send /link 123456).\n"
        "No code yet? Send /link in the app where you registered as a volunteer to get one. "
        "Not registered at all? Send /start to register here."
    )
    wrong = "000000" if code != "000000" else "111111"
    assert await bob.say(wrong) == (
        "That link code is not right. Check the 6 digits shown in the other app and send them again, "
        "for example: /link 123456 (4 more wrong tries allowed this hour)."
    )
    assert await bob.say("12 34") == (
        "A link code is 6 digits, for example: /link 123456. Please check it and send it again."
    )
    text = await bob.say(code)
    assert text.startswith(
        "Linked: this account now uses your volunteer profile.\nMy profile\nName: Bob Brown\n"
    )
    text = await bob.say("/profile")
    assert text.startswith("My profile\nName: Bob Brown\n") and "Region: Gulou District, Nanjing" in text


# ---- 7. the profile -----------------------------------------------------------------------------


async def test_profile_shows_edits_and_withdraws_a_consent_in_english(db, clock, chat) -> None:
    await _org(db, clock)
    alice = chat(ALICE, english=False)
    await _register_en(alice, "13812345678")
    number = _number(await alice.say("/profile"), r"Volunteer number: (\S+)\n")
    assert alice.text == (
        "My profile\n"
        "Name: Alice Walker\n"
        f"Volunteer number: {number}\n"
        "Phone: 13812345678\n"
        "Region: Xuanwu District, Nanjing\n"
        "Fields: Information technology\n"
        "Service areas: Popular science lectures\n"
        "Qualifications (checked by an organizer): -\n"
        "Organizations: Xuanwu Science Volunteers (member)"
    )
    assert alice.buttons() == [
        "Edit my profile",
        "Language",
        "My consents",
        "Link another app",
        "🔔 Message settings",
        "📄 My data and leaving",
        "Main menu",
    ]

    assert await alice.press("Edit my profile") == "What would you like to change?"
    assert alice.buttons() == ["Name", "Phone", "Region", "Fields", "Service areas", "My profile"]
    assert await alice.press("Region") == "Please enter your region, e.g. Xuanwu District, Nanjing, Jiangsu"
    text = await alice.say("Gulou District, Nanjing")
    assert text.startswith("Saved.\nMy profile\n") and "Region: Gulou District, Nanjing\n" in text

    await alice.press("Edit my profile")
    await alice.press("Phone")
    assert [b["text"] for b in alice.reply_keyboard()] == ["📱 Share my phone number"]
    assert await alice.say("12345") == (
        "That phone number is not valid. Enter an 11-digit mainland mobile number, e.g. 13812345678."
    )
    text = await alice.share_contact("+86 139 0000 1111")
    assert "Phone: 13900001111\n" in text
    assert alice.last[0]["sent_markup"] == {"remove_keyboard": True}  # the phone button goes away

    await alice.press("Edit my profile")
    assert (await alice.press("Fields")).startswith(
        "Choose your professional fields (several allowed, 1 chosen)"
    )
    assert "✅ Information technology" in alice.buttons()
    await alice.press("Education")
    text = await alice.press("Done")
    assert "Fields: Information technology, Education\n" in text

    await alice.press("Edit my profile")
    await alice.press("Name")
    assert "Name: Alice W. Walker\n" in await alice.say("Alice W. Walker")

    assert await alice.press("My consents") == (
        "You have given these consents; you can withdraw any of them:"
    )
    agree = "Agree: Keeping check-in coordinates"
    assert alice.buttons() == ["Withdraw: Privacy notice", agree, "Main menu"]
    assert await alice.press("Withdraw: Privacy notice") == (
        "Withdrawn: Privacy notice.\nYou have no consents in force."
    )
    assert alice.buttons() == [agree, "Main menu"]

    await alice.say("/profile")
    alice.english = False  # the choice of language is written in both
    assert await alice.press("Language") == "请选择语言 / Please choose a language:"
    assert await alice.press("中文") == "语言已设置为中文。\n请选择："
    await alice.say("/language")
    alice.english = True
    assert await alice.press("English") == "Language set to English.\nWhat would you like to do?"


# ---- what Telegram shows around the lists -------------------------------------------------------


async def test_the_location_button_goes_away_once_the_location_is_sent(db, clock, chat) -> None:
    """The "Send my location" keyboard is a reply keyboard under the input field; once the location
    is in, the list of activities replaces it (as "Phone number noted." does for the phone button)."""
    await _catalogue(db, clock)
    bob = chat(BOB)
    await bob.say("/find")
    await bob.press("Near me")
    assert bob.reply_keyboard() == [{"text": "📍 Send my location", "request_location": True}]
    assert (
        await bob.share_location(32.05, 118.78) == "Location received.\nPage 1; tap an activity for details:"
    )
    removed = [m for m in bob.last if m["sent_markup"].get("remove_keyboard")]
    assert removed, [m["sent_markup"] for m in bob.last]


async def test_long_english_titles_keep_places_distance_and_status_on_the_buttons(db, clock, chat) -> None:
    """English runs longer than Chinese: the button of an activity must still show what matters to the
    volunteer (places left, distance, their status), the title giving way instead."""
    org_id = await _org(db, clock)
    title = "Robotics and coding workshop for beginners"
    activity_id = await _activity(db, clock, org_id, title=title, capacity=1)
    await _volunteer(db, clock, ALICE, "Alice Walker")
    bob_id = await _volunteer(db, clock, BOB, "Bob Brown")
    await _sign_up(db, clock, bob_id, activity_id)
    alice = chat(ALICE)

    await alice.say("/find")
    await alice.press("Near me")
    await alice.share_location(32.05, 118.78)
    (near,) = alice.buttons()[:-1]
    await alice.send(alice.updates.start(f"act-{activity_id}", person=ALICE))
    await alice.press("Sign me up")
    await alice.press("Join the waitlist")
    await alice.press("My activities")
    mine = alice.buttons()[0]
    assert [near[-16:], mine[-17:]] == ["(0 left) · 2.0km", "(On the waitlist)"], (near, mine)
