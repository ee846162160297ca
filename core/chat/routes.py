"""Which button, command and flow goes where. Deep-link payloads (t.me/bot?start=…, WeChat scene QR
codes) use the same words: ``act-12`` opens activity 12, ``org-3`` the invitation to join org 3,
``need`` / ``need-3`` the need form (addressed to org 3), ``survey-12`` / ``vsurvey-12`` the surveys."""

from __future__ import annotations

from functools import partial

from core.chat import (
    activities,
    activity_template,
    attendance,
    briefing,
    broadcasts,
    deep_links,
    evaluations,
    exports,
    feedback,
    linking,
    matching,
    needs,
    org_application,
    org_overview,
    organizer,
    privacy,
    qualifications,
    reports,
    reviews,
    statistics,
    surveys,
    volunteer,
)
from core.chat.conversation import Handler, Routes
from core.chat.turn import Turn
from core.errors import NotFound
from core.services.volunteers import request_membership


async def start(turn: Turn, payload: str) -> None:
    kind, _, ident = payload.partition("-")
    if kind == "act" and ident.isdigit():
        await activities.show_card(turn, ident)
        return
    if kind == "org" and ident.isdigit():
        await join_org(turn, ident)
        return
    if kind == "need" and (ident.isdigit() or not ident):
        await needs.start_need(turn, ident)
        return
    if kind == "survey" and ident.isdigit():
        await surveys.beneficiary_survey(turn, ident)
        return
    if kind == "vsurvey" and ident.isdigit():
        await surveys.volunteer_survey(turn, ident)
        return
    if turn.actor.volunteer_id is None:
        turn.say("chat.welcome")
        await volunteer.start_registration(turn)
        return
    turn.say("chat.welcome_back")
    await volunteer.show_menu(turn)


async def join_org(turn: Turn, arg: str) -> None:
    if turn.actor.volunteer_id is None:
        await volunteer.start_registration(turn)
        return
    org = await turn.uow.orgs.get(int(arg)) if arg.isdigit() else None
    if org is None:
        raise NotFound("org.not_found")
    membership = await request_membership(turn.uow, turn.clock, turn.actor, org.id or 0)
    turn.say(f"chat.reg.membership.{membership.status.value}", org=org.name)


async def register(turn: Turn, after: str) -> None:
    await volunteer.start_registration(turn, after)


async def menu(turn: Turn, _: str = "") -> None:
    turn.state.clear()
    await volunteer.show_menu(turn)


async def find(turn: Turn, _: str = "") -> None:
    turn.state.clear()
    await activities.show_filters(turn)


def build_routes() -> Routes:
    commands: dict[str, Handler] = {
        "help": volunteer.show_help,
        "menu": menu,
        "find": find,
        "my": activities.my_activities,
        "profile": volunteer.show_profile,
        "feedback": feedback.ask_feedback,
        "complain": feedback.start_complaint,
        "myeval": evaluations.mine,
        "report": statistics.report_command,
        "language": volunteer.choose_language,
        "link": linking.link,
        "qr": deep_links.qr_command,
        "organizer": organizer.organizer_menu,
        "publish": organizer.start_new_activity,
        "neworg": org_application.start_application,
        "reviews": reviews.show_reviews,
        "feedbacklist": feedback.list_feedback,
        "need": needs.start_need,
        "needs": needs.list_needs,
        "stats": surveys.stats_command,
        "qualification": qualifications.ask_number,
        "checkin": attendance.checkin_menu,
        "hours": attendance.my_hours,
        "makeup": attendance.start_makeup,
        "certificate": attendance.certificate,
        "makeups": attendance.open_makeups,
        "records": reports.list_missing,
        "export": exports.export_menu,
        "overview": org_overview.overview,
        "settings": volunteer.message_settings,
        "mydata": privacy.my_data,
        "leave": privacy.ask_leave,
    }
    buttons: dict[str, Handler] = {
        "menu": menu,
        "help": volunteer.show_help,
        "reg": register,
        "find": find,
        "find.g": activities.show_groups,
        "find.l": activities.list_page,
        "find.near": activities.ask_near,
        "a": activities.show_card,
        "a.s": activities.start_signup,
        "a.si": partial(activities.start_signup, insured=True),
        "a.w": partial(activities.start_signup, waitlist=True),
        "a.wi": partial(activities.start_signup, insured=True, waitlist=True),
        "s.c": activities.confirm_cancel,
        "s.cc": activities.do_cancel,
        "my": activities.my_activities,
        "prof": volunteer.show_profile,
        "prof.lang": volunteer.choose_language,
        "prof.ed": volunteer.edit_profile,
        "prof.consents": volunteer.show_consents,
        "prof.wd": volunteer.withdraw,
        "settings": volunteer.message_settings,
        "prof.gr": volunteer.explain_consent,
        "prof.gra": volunteer.grant,
        "prof.link": linking.link,
        "pv.data": privacy.my_data,
        "pv.leave": privacy.ask_leave,
        "pv.leave.y": privacy.do_leave,
        "a.qr": deep_links.activity_qr,
        "a.sqr": deep_links.survey_qr,
        "fb": feedback.ask_feedback,
        "cp": feedback.start_complaint,
        "ev": evaluations.show_attendees,
        "ev.v": evaluations.start,
        "myev": evaluations.mine,
        "st": statistics.show,
        "stx": statistics.send_xlsx,
        "org": organizer.organizer_menu,
        "oa.new": organizer.start_new_activity,
        "oa.tpl": activity_template.send_template,
        "oa.list": organizer.list_activities,
        "oa": organizer.staff_card,
        "oa.pub": organizer.publish,
        "oa.sl": organizer.signup_list,
        "oa.att": attendance.roster,
        "oa.mk": attendance.mark,
        "oa.code": attendance.show_code,
        "bf.y": briefing.confirm,
        "bf.n": briefing.ask_reason,
        "bf.nn": briefing.decline_without_reason,
        "ci": attendance.checkin_menu,
        "ci.a": attendance.ask_proof,
        "hours": attendance.my_hours,
        "cert": attendance.certificate,
        "mk.new": attendance.start_makeup,
        "mk.act": attendance.makeup_activity,
        "mk.l": attendance.open_makeups,
        "rp": reports.open_report,
        "rp.e": reports.start_revision,
        "rp.l": reports.list_missing,
        "mk.o": attendance.show_makeup,
        "mk.ph": attendance.show_makeup_photo,
        "mk.a": attendance.approve_makeup,
        "mk.p": attendance.ask_partial,
        "mk.r": attendance.ask_reject,
        "rc": attendance.review_records,
        "rc.c": attendance.confirm_one,
        "rc.all": attendance.confirm_all,
        "rc.v": attendance.ask_void,
        "oa.exp": organizer.export,
        "ex": exports.export_menu,
        "ov": org_overview.overview,
        "oa.bc": broadcasts.preview,
        "oa.bcs": broadcasts.send,
        "oa.bcp": broadcasts.refresh,
        "oa.bcx": broadcasts.stop,
        "oa.cx": organizer.ask_cancel,
        "oa.ed": organizer.ask_edit,
        "oa.ef": organizer.start_edit,
        "orgapp": org_application.start_application,
        "rev": reviews.show_reviews,
        "rev.o": reviews.show_org,
        "rev.oa": reviews.approve_org,
        "rev.or": reviews.reject_org,
        "rev.m": reviews.show_member,
        "rev.ma": reviews.approve_member,
        "rev.mr": reviews.reject_member,
        "fbl": feedback.list_feedback,
        "fbl.o": feedback.show_item,
        "fbl.r": feedback.ask_reply,
        "need": needs.start_need,
        "needs": needs.list_needs,
        "nd.o": needs.show_need,
        "nd.a": needs.approve,
        "nd.r": needs.ask_reject,
        "nd.t": needs.take,
        "nd.c": needs.close,
        "nd.plan": needs.plan,
        "mt.a": matching.for_activity,
        "mt.n": matching.for_need,
        "mt.i": matching.invite_one,
        "mt.call": matching.call,
        "mt.no": matching.not_interested,
        "sv.l": surveys.survey_links,
        "stats": surveys.show_stats,
        "vsurvey": surveys.volunteer_survey,  # the after-activity notice (core/services/reminders.py)
        "q": qualifications.ask_number,
        "q.r": partial(qualifications.toggle, held=True),
        "q.w": partial(qualifications.toggle, held=False),
    }
    flows = {
        volunteer.REGISTRATION: volunteer.registration_step,
        activities.FIND_NEAR: activities.near_step,
        feedback.FEEDBACK: feedback.feedback_step,
        volunteer.PROFILE_EDIT: volunteer.profile_edit_step,
        linking.LINKING: linking.linking_step,
        organizer.NEW_ACTIVITY: organizer.new_activity_step,
        activity_template.ACTIVITY_TEMPLATE: activity_template.template_step,
        organizer.CANCEL_ACTIVITY: organizer.cancel_step,
        organizer.EDIT_ACTIVITY: organizer.edit_step,
        org_application.ORG_APPLICATION: org_application.application_step,
        reviews.REVIEW_REASON: reviews.reason_step,
        feedback.FEEDBACK_REPLY: feedback.reply_step,
        feedback.COMPLAINT_FLOW: feedback.complaint_step,
        evaluations.EVALUATION: evaluations.evaluation_step,
        statistics.STATS_RANGE: statistics.range_step,
        needs.NEED_FORM: needs.need_step,
        needs.NEED_REASON: needs.reason_step,
        surveys.SURVEY: surveys.survey_step,
        qualifications.QUALIFICATION_LOOKUP: qualifications.number_step,
        attendance.CHECKIN: attendance.checkin_step,
        briefing.DECLINE: briefing.reason_step,
        attendance.MAKEUP: attendance.makeup_step,
        attendance.STAFF_REASON: attendance.staff_reason_step,
        reports.REPORT_FORM: reports.report_step,
    }
    return Routes(
        buttons=buttons,
        commands=commands,
        flows=flows,
        menu=menu,
        start=start,
        location=attendance.location_anywhere,
    )
