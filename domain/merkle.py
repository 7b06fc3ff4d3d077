"""A Merkle tree over loans' chain heads (RFC 6962 hashing), with inclusion proofs.

A signed root over every loan's head makes removing or rolling back a whole loan detectable,
which a per-loan hash chain alone cannot show.
"""
from __future__ import annotations

import hashlib


def leaf_hash(loan: str, version: int, head: str) -> str:
    return hashlib.sha256(b"\x00" + f"{loan}:{version}:{head}".encode()).hexdigest()


def _node(left: str, right: str) -> str:
    return hashlib.sha256(b"\x01" + bytes.fromhex(left) + bytes.fromhex(right)).hexdigest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (RFC 6962 §2.1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: list[str]) -> str:
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(root(leaves[:k]), root(leaves[k:]))


def proof(leaves: list[str], index: int) -> list[list[str]]:
    """The audit path of leaf `index`: [side, sibling hash] pairs from the leaf up."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return proof(leaves[:k], index) + [["right", root(leaves[k:])]]
    return proof(leaves[k:], index - k) + [["left", root(leaves[:k])]]


def verify_proof(leaf: str, path: list[list[str]], expected_root: str) -> bool:
    value = leaf
    for side, sibling in path:
        value = _node(value, sibling) if side == "right" else _node(sibling, value)
    return value == expected_root
