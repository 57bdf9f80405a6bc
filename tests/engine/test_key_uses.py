"""What a key signed without storing it (access tokens, connect links, OAuth states) keeps the
key from being retired until it expires, across every process that signs with it."""

from __future__ import annotations

import time

import pytest

from actionruns.connections.key_uses import SLACK_SECONDS, KeyUses
from actionruns.engine.keys import KeyInUse, KeyRotation
from actionruns.vault import Vault
from tests.conftest import ServiceFactory


async def test_signing_records_until_when_each_key_is_needed(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(workers=False)
    store = service.engine.store
    primary = service.engine.vault.primary_key_id
    before = time.time()
    await service.new_client("acme")  # an access token, signed with the primary key
    uses = await store.key_uses(before)
    assert uses[primary] >= before + service.engine.settings.token_ttl_seconds

    # An earlier time never shortens what is recorded; a later one extends it.
    await store.extend_key_use(primary, before + 10)
    assert (await store.key_uses(before))[primary] == uses[primary]
    await store.extend_key_use("k-other", before + 50)
    await store.extend_key_use("k-other", before + 70)
    assert (await store.key_uses(before))["k-other"] == before + 70
    assert "k-other" not in await store.key_uses(before + 80)

    await store.forget_key_uses(["k-other"], valid_before=before)
    assert set(await store.key_uses(before)) == {primary}


async def test_a_process_writes_once_per_key_while_its_slack_covers_what_it_signs(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(workers=False)
    store = service.engine.store
    uses = KeyUses(store)
    now = time.time()
    await uses.signed("k1", now + 60)
    await store.forget_key_uses(["k1"], valid_before=now)  # unseen by this process
    await uses.signed("k1", now + 60 + SLACK_SECONDS / 2)  # covered: no write
    assert "k1" not in await store.key_uses(now)
    await uses.signed("k1", now + 60 + SLACK_SECONDS * 2)
    assert (await store.key_uses(now))["k1"] == now + 60 + SLACK_SECONDS * 3


async def test_retire_waits_for_tokens_of_the_old_key_unless_forced(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(workers=False)
    engine = service.engine
    await service.new_client("acme")  # its token is signed with the first key
    rotated = engine.vault.keyring.with_new_primary()
    rotation = KeyRotation(engine.store, Vault(rotated))
    await rotation.reseal_all()  # the client's signing secret, under the new key
    now = engine.clock()

    with pytest.raises(KeyInUse, match=r"valid for 6[0-9] more minutes"):
        await rotation.retire(rotated, now=now)
    # Once those have expired, nothing holds the old key back.
    later = now + engine.settings.token_ttl_seconds + SLACK_SECONDS + 1
    assert list((await rotation.retire(rotated, now=later)).keys) == [rotated.primary]
    assert list((await rotation.retire(rotated, now=now, force=True)).keys) == [rotated.primary]
