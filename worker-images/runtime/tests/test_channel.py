"""The status channel's writer against a real local HTTPS server (TLS, token, codes, jobs)."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from aijob_worker.channel import ChannelStatusWriter, channel_writer_from_env, report_outcome
from aijob_worker.job import run_job
from aijob_worker.progress import ProgressReporter
from aijob_worker.reporting import writer_from_env
from aijob_worker.runners import RunnerRegistry
from aijob_worker.signals import StopFlag
from aijob_worker.status import FileStatusWriter, StatusWriteError
from tests.conftest import offline_env

SERVER_NAME = "aijob-status.aijob-system.svc"
UID = "6f1c2d3e-0000-4000-8000-00000000abcd"
POD = "job-train-0-abcde"


@dataclass
class Seen:
    """One request the server took."""

    method: str
    path: str
    authorization: str
    body: dict[str, Any] | None
    port: int = 0
    """The client's port: a new one is a new connection."""


@dataclass
class StatusServer:
    """A tiny HTTPS status server: answers from a queue (else 200), records what it got."""

    url: str
    ca_pem: str
    answers: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)

    def reports(self) -> list[dict[str, Any]]:
        return [request.body for request in self.seen if request.body is not None]


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for SERVER_NAME only (no IP address in it)."""

    def openssl(*arguments: str) -> None:
        subprocess.run(["openssl", *arguments], check=True, capture_output=True, cwd=directory)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "1", "-subj", "/CN=aijob-test-ca")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", f"/CN={SERVER_NAME}")  # fmt: skip
    (directory / "san.cnf").write_text(f"subjectAltName=DNS:{SERVER_NAME}\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "1",
            "-extfile", "san.cnf")  # fmt: skip
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return _certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server(certificates: tuple[Path, Path, Path]) -> Iterator[StatusServer]:
    ca, cert, key = certificates
    state = StatusServer(url="", ca_pem=ca.read_text())

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # connections kept alive, as a real server does

        def _answer(self, body: dict[str, Any] | None) -> None:
            authorization = self.headers.get("Authorization", "")
            state.seen.append(
                Seen(self.command, self.path, authorization, body, self.client_address[1])
            )
            if state.answers:
                code, headers, payload = state.answers.pop(0)
            elif body is None:
                code, headers, payload = 200, {}, json.dumps(state.status).encode()
            else:
                code, headers = 200, {}
                payload = json.dumps({"sequence": body["sequence"], "written": True}).encode()
            self.send_response(code)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._answer(None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self._answer(json.loads(self.rfile.read(length)))

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state.url = f"https://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text("first-token\n")
    return path


def make_writer(
    server: StatusServer, token_file: Path, *, server_name: str = SERVER_NAME
) -> ChannelStatusWriter:
    return ChannelStatusWriter(
        url=server.url,
        namespace="team-a",
        name="train",
        uid=UID,
        pod=POD,
        token_file=token_file,
        ca_pem=server.ca_pem,
        server_name=server_name,
        timeout=5.0,
        sleep=lambda _: None,
    )


def test_a_report_goes_to_the_job_with_the_token_read_each_time(
    server: StatusServer, token_file: Path
) -> None:
    writer = make_writer(server, token_file)
    writer.patch_status({"progress": {"percent": 5}})
    token_file.write_text("rotated-token\n")
    writer.patch_status({"progress": {"percent": 6}, "checkpoint": {"uri": "file:///c/1"}})
    first, second = server.seen
    assert first.method == second.method == "POST"
    assert first.path == second.path == "/v1/reports/team-a/train"
    assert (first.authorization, second.authorization) == (
        "Bearer first-token",
        "Bearer rotated-token",
    )
    assert first.body is not None
    assert second.body is not None
    assert first.body["uid"] == UID
    assert first.body["pod"] == POD
    assert first.body["final"] is False
    assert "outcome" not in first.body
    assert first.body["status"]["progress"]["percent"] == 5
    assert second.body["status"]["checkpoint"]["uri"] == "file:///c/1"
    assert second.body["sequence"] > first.body["sequence"]


def test_the_certificate_is_checked_for_the_server_name_not_the_address(
    server: StatusServer, token_file: Path
) -> None:
    with pytest.raises(StatusWriteError, match="unreachable") as refused:
        make_writer(server, token_file, server_name="another.aijob-system.svc").patch_status(
            {"progress": {"percent": 1}}
        )
    assert refused.value.retryable
    assert server.seen == []


def test_a_server_signed_by_another_ca_is_not_trusted(
    server: StatusServer, token_file: Path, tmp_path: Path
) -> None:
    other_ca, _, _ = _certificates(tmp_path)
    writer = ChannelStatusWriter(
        url=server.url, namespace="team-a", name="train", uid=UID, pod=POD,
        token_file=token_file, ca_pem=other_ca.read_text(), server_name=SERVER_NAME,
    )  # fmt: skip
    with pytest.raises(StatusWriteError, match="unreachable"):
        writer.patch_status({"progress": {"percent": 1}})
    assert server.seen == []


@pytest.mark.parametrize(
    ("code", "retryable", "permanent"),
    [
        (403, False, False),
        (413, False, False),
        (422, False, False),
        (404, False, True),
        (409, False, True),
        (500, True, False),
        (503, True, False),
    ],
)
def test_answers_are_classified(
    server: StatusServer, token_file: Path, code: int, retryable: bool, permanent: bool
) -> None:
    server.answers.append((code, {}, b'{"detail": "no"}'))
    with pytest.raises(StatusWriteError) as failed:
        make_writer(server, token_file).patch_status({"progress": {"percent": 1}})
    assert (failed.value.code, failed.value.retryable, failed.value.permanent) == (
        code,
        retryable,
        permanent,
    )
    assert "no" in str(failed.value)


def test_too_many_requests_keeps_the_servers_retry_after(
    server: StatusServer, token_file: Path
) -> None:
    server.answers.append((429, {"Retry-After": "7"}, b""))
    with pytest.raises(StatusWriteError) as failed:
        make_writer(server, token_file).patch_status({"progress": {"percent": 1}})
    assert failed.value.retryable
    assert failed.value.retry_after == 7.0


def test_unauthorized_is_retried_a_few_times_in_a_row_then_refused(
    server: StatusServer, token_file: Path
) -> None:
    writer = make_writer(server, token_file)
    outcomes = []
    for _ in range(4):
        server.answers.append((401, {}, b"expired"))
        with pytest.raises(StatusWriteError) as failed:
            writer.patch_status({"progress": {"percent": 1}})
        outcomes.append(failed.value.retryable)
    assert outcomes == [True, True, True, False]
    writer.patch_status({"progress": {"percent": 2}})  # a rotated token passes: count reset
    server.answers.append((401, {}, b"expired"))
    with pytest.raises(StatusWriteError) as again:
        writer.patch_status({"progress": {"percent": 3}})
    assert again.value.retryable


def test_a_missing_token_is_retryable(server: StatusServer, tmp_path: Path) -> None:
    with pytest.raises(StatusWriteError, match="no token") as failed:
        make_writer(server, tmp_path / "absent").patch_status({"progress": {"percent": 1}})
    assert failed.value.retryable
    assert server.seen == []


def test_a_part_that_is_not_the_workers_is_refused_before_sending(
    server: StatusServer, token_file: Path
) -> None:
    with pytest.raises(StatusWriteError, match="contract") as refused:
        make_writer(server, token_file).patch_status({"phase": "Succeeded"})
    assert refused.value.refused
    assert server.seen == []


def test_read_status_gets_the_workers_share(server: StatusServer, token_file: Path) -> None:
    server.status = {"checkpoint": {"uri": "file:///c/epoch-3"}, "progress": {"epoch": 3}}
    status = make_writer(server, token_file).read_status()
    assert status.checkpoint is not None
    assert status.checkpoint.uri == "file:///c/epoch-3"
    assert server.seen[0].method == "GET"
    assert server.seen[0].authorization == "Bearer first-token"


def test_the_final_report_is_retried_until_acknowledged(
    server: StatusServer, token_file: Path
) -> None:
    server.answers += [(503, {"Retry-After": "1"}, b"standby"), (500, {}, b"")]
    assert report_outcome(make_writer(server, token_file), 143, "interrupted") is True
    reports = server.reports()
    assert len(reports) == 3
    assert all(report["final"] for report in reports)
    assert reports[-1]["outcome"] == {"exitCode": 143, "message": "interrupted"}
    assert reports[0]["sequence"] < reports[1]["sequence"] < reports[2]["sequence"]


def test_a_standbys_answer_drops_the_connection_so_the_next_try_may_reach_the_leader(
    server: StatusServer, token_file: Path
) -> None:
    writer = make_writer(server, token_file)
    writer.patch_status({"progress": {"percent": 1}})
    writer.patch_status({"progress": {"percent": 2}})
    server.answers.append((503, {"Retry-After": "1"}, b"a standby"))
    with pytest.raises(StatusWriteError):
        writer.patch_status({"progress": {"percent": 3}})
    writer.patch_status({"progress": {"percent": 4}})
    ports = [seen.port for seen in server.seen]
    assert ports[0] == ports[1] == ports[2]  # kept alive until the standby answered
    assert ports[3] != ports[2]


def test_reading_the_status_back_waits_out_a_standby(
    server: StatusServer, token_file: Path
) -> None:
    server.status = {"checkpoint": {"uri": "file:///c/epoch-2"}}
    server.answers += [(503, {"Retry-After": "1"}, b"a standby")] * 2
    status = make_writer(server, token_file).read_status()
    assert status.checkpoint is not None
    assert [seen.method for seen in server.seen] == ["GET"] * 3
    server.answers.append((403, {}, b"not yours"))
    with pytest.raises(StatusWriteError) as refused:
        make_writer(server, token_file).read_status()
    assert refused.value.code == 403


def test_the_final_report_stops_at_a_permanent_answer(
    server: StatusServer, token_file: Path
) -> None:
    server.answers.append((409, {}, b"re-created"))
    assert report_outcome(make_writer(server, token_file), 0, "") is False
    assert len(server.seen) == 1


def test_writers_without_a_channel_take_no_outcome(tmp_path: Path) -> None:
    assert report_outcome(FileStatusWriter(tmp_path / "status.json"), 0, "") is None


def test_the_reporter_survives_an_outage_of_the_channel(
    server: StatusServer, token_file: Path
) -> None:
    server.answers += [(503, {}, b"")] * 2
    reporter = ProgressReporter(make_writer(server, token_file), interval=0.0)
    reporter.report(epoch=1, total_epochs=2, metrics={"loss": 0.5})
    assert reporter.write_now() is True
    assert reporter.failed_writes == 2
    assert reporter.writes == 1
    assert server.reports()[-1]["status"]["progress"]["epoch"] == 1


def channel_env(server: StatusServer, token_file: Path, **extra: str) -> dict[str, str]:
    return {
        "AIJOB_STATUS_URL": server.url,
        "AIJOB_STATUS_TOKEN_FILE": str(token_file),
        "AIJOB_STATUS_CA": server.ca_pem,
        "AIJOB_STATUS_SERVER_NAME": SERVER_NAME,
        "AIJOB_NAME": "train",
        "AIJOB_NAMESPACE": "team-a",
        "AIJOB_UID": UID,
        "AIJOB_POD_NAME": POD,
        **extra,
    }


def test_the_environment_picks_the_channel_when_it_names_one(
    server: StatusServer, token_file: Path, tmp_path: Path
) -> None:
    assert isinstance(writer_from_env(channel_env(server, token_file)), ChannelStatusWriter)
    offline = writer_from_env({"AIJOB_STATUS_FILE": str(tmp_path / "s.json")})
    assert isinstance(offline, FileStatusWriter)
    assert channel_writer_from_env({"AIJOB_NAME": "train"}) is None
    with pytest.raises(ValueError, match="AIJOB_POD_NAME"):
        channel_writer_from_env({**channel_env(server, token_file), "AIJOB_POD_NAME": ""})


TRAINING: dict[str, Any] = {
    "task": "training",
    "model": {"type": "softmax", "hyperparameters": {"epochs": 4, "seed": 1}},
    "dataset": {"name": "iris"},
}


def test_a_training_job_reports_progress_results_and_its_outcome(
    server: StatusServer, token_file: Path, tmp_path: Path, registry: RunnerRegistry
) -> None:
    env = {**offline_env(tmp_path, TRAINING), **channel_env(server, token_file)}
    assert run_job(env, stop=StopFlag(), registry=registry) == 0
    assert not (tmp_path / "status.json").exists()
    assert "GET" in {seen.method for seen in server.seen}  # resume: a previous checkpoint
    reports = server.reports()
    assert any("results" in report["status"] for report in reports)
    results = next(
        report["status"]["results"] for report in reports if "results" in report["status"]
    )
    assert results["modelUri"] == f"file://{tmp_path}/artifacts/model"
    final = reports[-1]
    assert final["final"] is True
    assert final["outcome"] == {"exitCode": 0, "message": ""}
    assert [report["final"] for report in reports].count(True) == 1
    sequences = [report["sequence"] for report in reports]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == len(sequences)


def test_bad_input_is_reported_as_the_outcome(
    server: StatusServer, token_file: Path, tmp_path: Path, registry: RunnerRegistry
) -> None:
    spec = {**TRAINING, "model": {"type": "softmax", "hyperparameters": {"epochs": -1}}}
    env = {**offline_env(tmp_path, spec), **channel_env(server, token_file)}
    assert run_job(env, stop=StopFlag(), registry=registry) == 65
    final = server.reports()[-1]
    assert final["final"] is True
    assert final["outcome"]["exitCode"] == 65
    assert "bad input" in final["outcome"]["message"]
