"""Daily digests (issue: evidence): after each servicing run, a signed Merkle root over every loan
chain head of the organiser, so that removing or rolling back a whole loan is detectable too."""
from __future__ import annotations

import datetime as dt
import json

from adapters.signing import Signer, verify_signature
from domain import merkle
from domain.events import LoanEvent, LoanGranted
from domain.evidence import canonical_json
from projections.follower import scan


def signed_part(digest: dict) -> bytes:
    return canonical_json({k: digest[k] for k in ("tenant", "business_date", "position", "count", "root")}).encode()


def take(container, tenant: str, business_date: dt.date) -> dict:
    """Sign the heads the read model holds at its current position and store the digest."""
    read_model, signer = container.read_model, container.signer
    read_model.catch_up()
    with read_model.store.transaction() as tx:
        position = tx.execute("SELECT position FROM luotto_tracking WHERE projection = 'read_model'").one()
        rows = tx.execute("SELECT loan_uuid, version, head FROM luotto_loans WHERE tenant = :tenant "
                          "ORDER BY loan_uuid", {"tenant": tenant}).all()
    leaves = [[r["loan_uuid"], r["version"], r["head"]] for r in rows]
    digest = {"tenant": tenant, "business_date": business_date.isoformat(),
              "position": position["position"] if position else 0, "count": len(leaves),
              "root": merkle.root([merkle.leaf_hash(*leaf) for leaf in leaves])}
    digest.update(signature=signer.sign(signed_part(digest)), public_key=signer.public_key,
                  signed_at=container.service.clock().isoformat())
    # Only ever added (R-DATA-8): a re-run of a day adds a later digest beside the earlier one.
    with read_model.store.transaction() as tx:
        tx.execute("INSERT INTO luotto_digest_log (tenant, business_date, position, count, root, signature, "
                   "public_key, signed_at, leaves) VALUES (:tenant, :business_date, :position, :count, :root, "
                   ":signature, :public_key, :signed_at, :leaves)", {**digest, "leaves": json.dumps(leaves)})
    return digest


def latest(container, tenant: str, with_leaves: bool = False) -> dict | None:
    """The newest digest: of the latest business date, the last signed (luotto_digests: older versions')."""
    with container.read_model.store.transaction() as tx:
        row = tx.execute("SELECT * FROM luotto_digest_log WHERE tenant = :tenant ORDER BY business_date DESC, "
                         "id DESC LIMIT 1", {"tenant": tenant}).one()
        old = tx.execute("SELECT * FROM luotto_digests WHERE tenant = :tenant ORDER BY business_date DESC LIMIT 1",
                         {"tenant": tenant}).one()
    if row is None or (old is not None and old["business_date"] > row["business_date"]):
        row = old
    if row is None:
        return None
    row.pop("id", None)
    leaves = json.loads(row.pop("leaves"))
    return {**row, "leaves": leaves} if with_leaves else row


def inclusion(digest: dict, loan_uuid: str) -> dict | None:
    """The loan's leaf and audit path in a digest stored with its leaves."""
    leaves = digest["leaves"]
    index = next((i for i, leaf in enumerate(leaves) if leaf[0] == loan_uuid), None)
    if index is None:
        return None
    hashes = [merkle.leaf_hash(*leaf) for leaf in leaves]
    return {"leaf": leaves[index], "index": index, "path": merkle.proof(hashes, index)}


def heads_at(service, tenant: str, position: int) -> list[list]:
    """Every chain head of the organiser's loans as recorded up to `position`, from the events alone."""
    heads: dict = {}
    owners: dict = {}
    for batch in scan(service, stop=position) if position >= 1 else ():
        for notification in batch:
            if not notification.topic.startswith("domain.events:"):
                continue
            event = service.mapper.to_domain_event(notification)
            if isinstance(event, LoanGranted):
                owners[event.originator_id] = event.tenant
            if isinstance(event, (LoanEvent, LoanGranted)):
                heads[event.originator_id] = [str(event.originator_id), event.originator_version, event.hash]
    return sorted((h for lid, h in heads.items() if owners.get(lid) == tenant), key=lambda h: h[0])


def verify(service, digest: dict) -> list[str]:
    """Problems found checking the store against an exported digest (empty: it matches)."""
    problems = []
    if not verify_signature(digest["public_key"], digest["signature"], signed_part(digest)):
        problems.append("the digest's signature does not verify")
    leaves = heads_at(service, digest["tenant"], digest["position"])
    if len(leaves) != digest["count"]:
        problems.append(f"the store holds {len(leaves)} loans at position {digest['position']}, "
                        f"the digest {digest['count']}")
    if merkle.root([merkle.leaf_hash(*leaf) for leaf in leaves]) != digest["root"]:
        problems.append("the Merkle root over the stored chain heads differs from the digest's root")
    return problems


__all__ = ["Signer", "take", "latest", "inclusion", "verify", "heads_at"]
