from core.domain.codes import Channel
from core.services.users import ensure_user
from storage import migrate
from storage.database import Database
from tests.fakes.clock import FakeClock


async def test_probe_migrate_while_open(blank_db_url):
    clock = FakeClock()
    await migrate.upgrade(blank_db_url)
    server = Database(blank_db_url)
    try:
        async with server.uow() as uow:
            user = await ensure_user(uow, clock, Channel.TELEGRAM, "a")
            await uow.dialogs.for_user(user.id, clock.now())
            await uow.deliveries.first_time(Channel.TELEGRAM, "1", clock.now())
            await uow.commit()
        async with server.uow() as uow:
            assert await uow.users.caller(Channel.TELEGRAM, "a") is not None
        await migrate.downgrade(blank_db_url, "0007")
        await migrate.upgrade(blank_db_url)
        print(await migrate.current(blank_db_url))
        async with server.uow() as uow:
            assert await uow.users.caller(Channel.TELEGRAM, "a") is not None
            assert not await uow.deliveries.first_time(Channel.TELEGRAM, "1", clock.now())
            await uow.commit()
        await migrate.downgrade(blank_db_url, "0002")
        await migrate.upgrade(blank_db_url)
        async with server.uow() as uow:
            c = await uow.users.caller(Channel.TELEGRAM, "a")
            print(c)
            await uow.dialogs.save(c.dialog)
            await uow.commit()
    finally:
        await server.dispose()
