"""`python -m aijob_gateway.keys`: mint, list and revoke API keys in the key Secret.

`create --tenant NS` makes a random key bound to namespace NS, stores only its
SHA-256 in the Secret (creating the Secret if needed) and prints the key once.
The running gateways watch the Secret and accept the key within moments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aijob_kube.errors import AlreadyExistsError, NotFoundError, kube_errors
from lightkube import Client, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Secret
from lightkube.types import PatchType

from aijob_gateway.security.keys import KeyEntry, KeyTable, MintedKey, mint_key
from aijob_gateway.settings import GatewaySettings

MANAGED_LABELS = {"app.kubernetes.io/part-of": "aijob", "app.kubernetes.io/component": "api-keys"}


class KeyAdmin:
    """Edits the key Secret of one gateway namespace."""

    def __init__(self, client: Client, namespace: str, secret_name: str) -> None:
        self.client = client
        self.namespace = namespace
        self.secret_name = secret_name

    def store(self, entry: KeyEntry) -> None:
        """Add one entry (creating the Secret when it does not exist)."""
        patch = {"data": {entry.key_id: entry.to_secret_value()}}
        what = f"store a key in Secret {self.namespace}/{self.secret_name}"
        try:
            with kube_errors(what):
                self.client.patch(
                    Secret,
                    self.secret_name,
                    patch,
                    namespace=self.namespace,
                    patch_type=PatchType.MERGE,
                )
        except NotFoundError:
            secret = Secret(
                metadata=ObjectMeta(
                    name=self.secret_name, namespace=self.namespace, labels=MANAGED_LABELS
                ),
                type="Opaque",
                data=patch["data"],
            )
            try:
                with kube_errors(what):
                    self.client.create(secret)
            except AlreadyExistsError:
                self.client.patch(
                    Secret,
                    self.secret_name,
                    patch,
                    namespace=self.namespace,
                    patch_type=PatchType.MERGE,
                )

    def create(self, tenant: str, description: str | None = None) -> MintedKey:
        """Mint a key for `tenant` and store its hash (never for the gateway's own namespace,
        aijob's own, where the operator reconciles nothing)."""
        if tenant == self.namespace:
            raise ValueError(
                f"tenant: {tenant!r} is aijob's own namespace (the gateway's); no tenant may use "
                "it, choose a tenant namespace"
            )
        minted = mint_key(tenant, description)
        self.store(minted.entry)
        return minted

    def entries(self) -> list[KeyEntry]:
        """The stored entries (hashes only)."""
        try:
            with kube_errors(f"read Secret {self.namespace}/{self.secret_name}"):
                secret = self.client.get(Secret, self.secret_name, namespace=self.namespace)
        except NotFoundError:
            return []
        table = KeyTable.from_secret_data(secret.data)
        return sorted(table.entries(), key=lambda e: (e.tenant, e.key_id))

    def revoke(self, key_id: str) -> bool:
        """Remove one entry; False when there was none."""
        if key_id not in {entry.key_id for entry in self.entries()}:
            return False
        self.client.patch(
            Secret,
            self.secret_name,
            {"data": {key_id: None}},
            namespace=self.namespace,
            patch_type=PatchType.MERGE,
        )
        return True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m aijob_gateway.keys", description=__doc__)
    parser.add_argument("--namespace", help="the gateway's namespace (AIJOB_GATEWAY_NAMESPACE)")
    parser.add_argument("--secret", help="the key Secret (AIJOB_GATEWAY_API_KEYS_SECRET)")
    parser.add_argument("--kubeconfig", help="kubeconfig path (default: KUBECONFIG or in-cluster)")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="mint a key for a tenant namespace")
    create.add_argument("--tenant", required=True, help="namespace the key may use")
    create.add_argument("--description", help="who or what the key is for")
    commands.add_parser("list", help="list key ids and their tenants (never the keys)")
    revoke = commands.add_parser("revoke", help="remove a key by its id")
    revoke.add_argument("key_id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one admin command."""
    args = _parser().parse_args(argv)
    settings = GatewaySettings()
    kubeconfig = args.kubeconfig or settings.kubeconfig
    client = Client(
        config=KubeConfig.from_file(kubeconfig) if kubeconfig else None,
        field_manager="aijob-gateway-keys",
    )
    admin = KeyAdmin(
        client, args.namespace or settings.namespace, args.secret or settings.api_keys_secret
    )
    if args.command == "create":
        try:
            minted = admin.create(args.tenant, args.description)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(minted.key)
        print(
            f"key id {minted.entry.key_id} for tenant {args.tenant}: store the key now, "
            "it is not shown again",
            file=sys.stderr,
        )
        return 0
    if args.command == "list":
        for entry in admin.entries():
            created = entry.created_at or "-"
            print(f"{entry.key_id}\t{entry.tenant}\t{created}\t{entry.description or ''}")
        return 0
    if admin.revoke(args.key_id):
        return 0
    print(f"error: no key with id {args.key_id}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
