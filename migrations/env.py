"""Alembic's environment: the server's metadata, on the server's database (async drivers).

Run by `Store.start()` on its own connection, or by `alembic upgrade head` from the command line
with the database of CHATSERVER_DATABASE_URL (or `-x url=...`)."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from chatserver.store.models import metadata

config = context.config
target_metadata = metadata


def run_on(connection: Connection) -> None:
    # SQLite cannot ALTER most things: batch mode copies the table instead.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return url
    from chatserver.config import Settings

    return Settings.from_env().database_url


async def run_online() -> None:
    engine = create_async_engine(database_url(), hide_parameters=True)
    async with engine.connect() as conn:
        await conn.run_sync(run_on)
        await conn.commit()
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)  # from Store.start(), inside its transaction
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(run_online())
