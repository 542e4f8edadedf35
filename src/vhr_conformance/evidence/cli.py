"""`vhr keys generate`, `vhr pack`, `vhr verify`, `vhr certify`."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer
from rich.console import Console

from vhr_conformance.i18n import Text, UserError

console = Console()

_STATUS = {
    "verified": Text("ĐÃ XÁC MINH", "VERIFIED"),
    "untrusted": Text("KHÔNG TIN CẬY (khóa lạ)", "UNTRUSTED (unknown key)"),
    "unsigned": Text("CHƯA KÝ — chỉ toàn vẹn, không tin cậy", "UNSIGNED — integrity only, not trusted"),
    "failed": Text("KHÔNG HỢP LỆ", "FAILED"),
}


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="Khóa ký bằng chứng / signing keys", no_args_is_help=True)
    app.add_typer(keys, name="keys")

    @keys.command("generate")
    def generate(
        out: Path = typer.Option(..., "--out", help="Tệp khóa riêng (PEM) / private key file"),
        name: str = typer.Option(..., "--name", help="Tên người ký / signer's name"),
        role: str = typer.Option("vendor", "--role", help="ministry | vendor"),
        force: bool = typer.Option(False, "--force"),
    ) -> None:
        """Tạo cặp khóa Ed25519 / make an Ed25519 key pair and its trust entry."""
        from vhr_conformance.evidence.keys import generate as make

        private, trust = make(out, name, role, force)
        typer.echo(
            Text(
                "Khóa riêng: {k} (giữ bí mật). Mục tin cậy để trao cho bên xác minh: {t}",
                "Private key: {k} (keep it secret). Trust entry to give to verifiers: {t}",
            )
            .format(k=private, t=trust)
            .in_lang()
        )

    attest = typer.Typer(help="Xác nhận tiêu chí / attestations", no_args_is_help=True)
    app.add_typer(attest, name="attest")

    @attest.command("check")
    def attest_check(
        file: Path = typer.Argument(..., help="Tệp xác nhận YAML / attestation file"),
        trust: list[Path] = typer.Option([], "--trust", help="Khóa người thẩm định / reviewers' keys"),
    ) -> None:
        """Trạng thái từng tiêu chí xác nhận / state of every attestation criterion."""
        from vhr_conformance.catalogue import load_catalogue
        from vhr_conformance.evidence.attestations import load_attestations, states
        from vhr_conformance.evidence.keys import load_trust

        criteria = load_catalogue().criteria
        found = states(criteria, load_attestations(file, criteria), load_trust(trust))
        for cid, st in found.items():
            console.print(f"{cid} [{criteria[cid].level}] {st.state}: {st.text.in_lang()}", highlight=False)
        missing = [
            c
            for c, st in found.items()
            if st.state in ("missing", "rejected") and criteria[c].level == "SHALL"
        ]
        raise typer.Exit(1 if missing else 0)

    @attest.command("review")
    def attest_review(
        file: Path = typer.Argument(..., help="Tệp xác nhận YAML / attestation file"),
        criterion: str = typer.Option(..., "--criterion"),
        decision: str = typer.Option(..., "--decision", help="accepted | rejected"),
        reason: str = typer.Option("", "--reason", help="Lý do / reason (required to reject)"),
        key: Path = typer.Option(
            ..., "--key", help="Khóa riêng của người thẩm định / reviewer's private key"
        ),
    ) -> None:
        """Ghi quyết định thẩm định có ký số / record a signed review decision."""
        from vhr_conformance.catalogue import load_catalogue
        from vhr_conformance.evidence.attestations import add_review, load_attestations
        from vhr_conformance.evidence.keys import load_signing_key

        aset = load_attestations(file, load_catalogue().criteria)
        add_review(aset, criterion, decision, reason, load_signing_key(key))
        typer.echo(Text("Đã ghi thẩm định vào {p}", "Review recorded in {p}").format(p=file).in_lang())

    @app.command("pack")
    def pack(
        report_dir: Path = typer.Argument(
            ..., help="Thư mục báo cáo của một lần chạy / a run's report folder"
        ),
        sign_key: Path = typer.Option(None, "--sign-key", help="Khóa riêng để ký / private key that signs"),
        kind: str = typer.Option("run", "--kind", help="run | listen"),
    ) -> None:
        """Đóng gói bằng chứng của một lần chạy / write the evidence bundle of a report folder."""
        from vhr_conformance.evidence.bundle import write_bundle
        from vhr_conformance.evidence.keys import load_signing_key

        key = load_signing_key(sign_key) if sign_key else None
        path = write_bundle(report_dir, sign_key=key, kind=kind)
        typer.echo(Text("Gói bằng chứng: {p}", "Evidence bundle: {p}").format(p=path).in_lang())

    @app.command("verify")
    def verify(
        subject: Path = typer.Argument(..., help="evidence.zip hoặc certificate-*.json"),
        trust: list[Path] = typer.Option([], "--trust", help="Danh sách tin cậy / trust list (repeatable)"),
        revocations: list[Path] = typer.Option(
            [], "--revocations", help="Danh sách thu hồi / revocation list"
        ),
        output: str = typer.Option("text", "--format", help="text | json"),
    ) -> None:
        """Xác minh gói bằng chứng hoặc chứng nhận / verify an evidence bundle or a certificate.

        Exit 0 only when verified (intact, same harness, signed by a trusted key); 1 failed,
        6 untrusted key, 7 unsigned (docs/evidence.md)."""
        from vhr_conformance.evidence.certificate import load_revocations, verify_certificate
        from vhr_conformance.evidence.fingerprint import Harness
        from vhr_conformance.evidence.keys import load_trust
        from vhr_conformance.evidence.verify import EXIT_CODES, verify_bundle

        if not subject.is_file():
            raise UserError(Text("Không tìm thấy tệp.", "File not found."), location=str(subject))
        keys = load_trust(trust)
        if subject.suffix == ".json":
            result = verify_certificate(subject, keys, load_revocations(revocations))
        else:
            result = verify_bundle(subject, keys, Harness.current())
        if output == "json":
            typer.echo(orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2).decode())
        else:
            for problem in result.problems:
                console.print(f"[red]✗[/] {problem.in_lang()}", highlight=False, soft_wrap=True)
            for note in result.notes:
                console.print(f"[green]✓[/] {note.in_lang()}", highlight=False, soft_wrap=True)
            console.print(result.signature.describe().in_lang(), highlight=False, soft_wrap=True)
            console.print(f"Kết luận / verdict: {_STATUS[result.status].both()}", highlight=False)
        raise typer.Exit(EXIT_CODES[result.status])

    @app.command("certify")
    def certify(
        bundle: Path = typer.Argument(..., help="evidence.zip của lần chạy ĐẠT / of a PASS run"),
        key: Path = typer.Option(..., "--key", help="Khóa riêng của Bộ Y tế / ministry private key"),
        trust: list[Path] = typer.Option([], "--trust", help="Danh sách tin cậy / trust list"),
        out: Path = typer.Option(Path("certificates"), "--out", help="Thư mục kết quả / output folder"),
        days: int = typer.Option(365, "--valid-days", help="Số ngày hiệu lực / validity in days"),
    ) -> None:
        """Cấp chứng nhận cho lần chạy ĐẠT / issue a certificate for a PASS bundle."""
        from vhr_conformance.evidence.certificate import certify as issue
        from vhr_conformance.evidence.keys import load_signing_key, load_trust

        if days <= 0:
            raise UserError(Text("Số ngày phải > 0.", "Days must be > 0."), location="--valid-days")
        paths = issue(bundle, load_signing_key(key), load_trust(trust), out, valid_days=days)
        for kind, path in paths.items():
            typer.echo(f"{kind}: {path}")
