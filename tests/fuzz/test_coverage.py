"""Every gRPC service of the contract has a campaign module; every RPC of a service is fuzzed because
the campaign's tests are parametrised from the service descriptor (a new RPC needs no test change)."""

from pathlib import Path

from fuzz_protos import grpc_services

HERE = Path(__file__).parent
CAMPAIGNS = {
    "proctor.exam.v1.ExamSession": "test_fuzz_exam_session.py",
    "proctor.auth.v1.AuthFace": "test_fuzz_auth_face.py",
    "proctor.media.v1.MediaIngest": "test_fuzz_media_ingest.py",
    "proctor.notify.v1.Notify": "test_fuzz_notify.py",
}


def test_every_grpc_service_has_a_campaign():
    services = {s.full_name for s in grpc_services()}
    assert services == set(CAMPAIGNS), f"services without a bad-input campaign: {sorted(services - set(CAMPAIGNS))}"
    for name, module in CAMPAIGNS.items():
        text = (HERE / module).read_text()
        assert "campaign_tests(SERVICE)" in text, module
        assert f'SERVICE = "{name}"' in _service_constant(name), name


def _service_constant(name: str) -> str:
    package = {"proctor.exam.v1.ExamSession": "exam_session", "proctor.auth.v1.AuthFace": "auth_face",
               "proctor.media.v1.MediaIngest": "media_ingest", "proctor.notify.v1.Notify": "notify"}[name]
    import importlib

    module = importlib.import_module(f"{package}.grpc_api")
    return f'SERVICE = "{module.SERVICE}"'


def test_the_campaign_covers_every_rpc():
    from fuzz_campaign import campaign_tests

    for service in grpc_services():
        tests = campaign_tests(service.full_name)
        marks = tests["test_random_requests"].pytestmark
        methods = next(m.args[1] for m in marks if m.name == "parametrize")
        assert methods == [m.name for m in service.methods], service.full_name
