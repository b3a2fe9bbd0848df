"""The real SMS and WeChat adapters against a local HTTP stand-in of each provider: the SDKs build
and sign real requests; what reached the wire and each class of outcome are checked."""

import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache
from django.utils import timezone

from gasworks.notifications import channels, outbox, preferences, sender
from gasworks.notifications.channels.aliyun import AliyunSmsAdapter
from gasworks.notifications.channels.tencent import TencentSmsAdapter
from gasworks.notifications.channels.wechat import WechatAdapter
from gasworks.notifications.models import Message
from tests.factories import make_customer
from tests.notifications.stub_provider import Stub

pytestmark = pytest.mark.django_db


@pytest.fixture
def stub():
    stub = Stub().start()
    yield stub
    stub.stop()


def _queue(customer, kind="low_balance", ref="low:1", variables=None):
    outbox.enqueue(kind, [(ref, customer.pk, variables or {"balance": "3.00"})])


def _round(minutes=0):
    return sender.send_due(now=timezone.now() + timedelta(seconds=1, minutes=minutes))


def _sms():
    return Message.objects.filter(channel="sms").order_by("pk")


# --- Aliyun ------------------------------------------------------------------------------------


def test_aliyun_sends_the_template_with_its_variables_signed(stub, monkeypatch):
    stub.env(monkeypatch, "aliyun")
    customer = make_customer()
    _queue(customer)
    assert _round()["sent"] == 2
    (request,) = [r for r in stub.requests if r["headers"].get("x-acs-action") == "SendSms"]
    wire = dict(parse_qsl(urlsplit(request["path"]).query))
    assert wire["PhoneNumbers"] == customer.phone and wire["TemplateCode"] == "SMS_100001"
    assert wire["SignName"] == "燃气公司"
    assert json.loads(wire["TemplateParam"]) == {"account_no": customer.account_no, "balance": "3.00"}
    assert request["headers"]["Authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAI-test")
    sms = _sms().get()
    assert sms.status == "sent" and sms.provider == "aliyun" and sms.provider_ref.startswith("aliyun:biz")
    assert wire["OutId"] == sms.out_id and sms.out_id.startswith("gw")


def test_aliyun_batches_one_template_with_a_parameter_per_number(stub, monkeypatch):
    stub.env(monkeypatch, "aliyun")
    customers = [make_customer() for _ in range(3)]
    for n, customer in enumerate(customers):
        _queue(customer, ref=f"low:{n}", variables={"balance": f"{n}.00"})
    assert _round()["sent"] == 6
    (request,) = [r for r in stub.requests if r["headers"].get("x-acs-action") == "SendBatchSms"]
    form = dict(parse_qsl(request["body"]))
    assert json.loads(form["PhoneNumberJson"]) == [c.phone for c in customers]
    assert [v["balance"] for v in json.loads(form["TemplateParamJson"])] == ["0.00", "1.00", "2.00"]
    assert json.loads(form["SignNameJson"]) == ["燃气公司"] * 3
    assert set(_sms().values_list("status", flat=True)) == {"sent"}


@pytest.mark.parametrize(
    ("answer", "status", "error"),
    [
        ((503, {"Code": "ServiceUnavailable", "Message": "busy"}), "queued", "ServiceUnavailable"),
        (
            (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控"}),
            "queued",
            "isv.BUSINESS_LIMIT",
        ),
        ((200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}), "failed", "非法手机号"),
        ((200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法"}), "failed", "TEMPLATE"),
        ((200, {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "签名不合法"}), "failed", "SIGNATURE"),
        ((200, {"Code": "isv.BLACK_KEY_CONTROL_LIMIT", "Message": "黑名单"}), "failed", "黑名单"),
    ],
)
def test_aliyun_outcomes_retried_or_failed(stub, monkeypatch, answer, status, error):
    stub.env(monkeypatch, "aliyun")
    monkeypatch.setattr("gasworks.notifications.channels.aliyun.READ_TIMEOUT_MS", 500)
    stub.script.append(answer)
    _queue(make_customer())
    _round()
    sms = _sms().get()
    assert sms.status == status and error in sms.error
    if status == "queued":  # retried with the backoff, and sent then
        assert sms.next_try_at > timezone.now()
        _round(minutes=2)
        sms.refresh_from_db()
        assert sms.status == "sent" and len(stub.deliveries) == 1


@pytest.mark.parametrize(("answer", "delivered"), [("hang", False), ("deliver-then-hang", True)])
def test_a_timeout_is_settled_by_asking_the_provider_not_by_sending_again(
    stub, monkeypatch, answer, delivered
):
    stub.env(monkeypatch, "aliyun")
    monkeypatch.setattr("gasworks.notifications.channels.aliyun.READ_TIMEOUT_MS", 500)
    stub.script.append(answer)
    _queue(make_customer())
    counts = _round()
    sms = _sms().get()
    assert counts["unknown"] == 1 and sms.status == "sending"  # no answer: it may have gone
    assert sender.send_due(now=timezone.now() + timedelta(seconds=2))["sent"] == 0  # not stale yet
    later = timezone.now() + sender.stale_after() + timedelta(seconds=2)
    counts = sender.send_due(now=later)
    assert counts["settled" if delivered else "sent"] == 1
    sms.refresh_from_db()
    assert sms.status == "sent" and len(stub.deliveries) == 1  # once, whether it had gone or not


def test_a_refused_number_in_a_batch_fails_alone(stub, monkeypatch):
    stub.env(monkeypatch, "aliyun")
    good, bad = make_customer(), make_customer()
    stub.refuse[bad.phone] = "invalid"
    _queue(good, ref="low:1")
    _queue(bad, ref="low:2")
    _round()
    statuses = dict(_sms().values_list("customer_id", "status"))
    assert statuses == {good.pk: "sent", bad.pk: "failed"}
    assert [d["to"] for d in stub.deliveries] == [good.phone]


def test_aliyun_recover_asks_the_provider_by_out_id(stub, monkeypatch):
    stub.env(monkeypatch, "aliyun")
    went, lost = make_customer(), make_customer()
    _queue(went, ref="low:1")
    _queue(lost, ref="low:2")
    now = timezone.now() + timedelta(seconds=1)
    sender.claim(100, now)  # claimed; one reached the provider, then the sender was killed
    reached = _sms().get(customer=went)
    AliyunSmsAdapter().send(reached, "", "")
    later = now + sender.stale_after() + timedelta(seconds=1)
    counts = sender.recover(later)
    assert counts == {"requeued": 3, "settled": 1, "failed": 0}  # with the portal's two
    assert dict(_sms().values_list("customer_id", "status")) == {went.pk: "sent", lost.pk: "queued"}
    sender.send_due(now=later)
    assert stub.by_recipient() == {went.phone: 1, lost.phone: 1}


# --- Tencent -----------------------------------------------------------------------------------


def test_tencent_sends_the_template_with_positional_parameters(stub, monkeypatch):
    stub.env(monkeypatch, "tencent")
    customer = make_customer()
    _queue(customer)
    _round()
    (request,) = [r for r in stub.requests if r["headers"].get("X-TC-Action") == "SendSms"]
    body = json.loads(request["body"])
    assert body["PhoneNumberSet"] == [f"+86{customer.phone}"] and body["TemplateId"] == "200001"
    assert body["TemplateParamSet"] == [customer.account_no, "3.00"] and body["SignName"] == "燃气公司"
    assert body["SmsSdkAppId"] == "1400000001"
    assert request["headers"]["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKID-test/")
    sms = _sms().get()
    assert sms.status == "sent" and body["SessionContext"] == sms.out_id
    assert sms.provider == "tencent" and sms.provider_ref == "tencent:serial1"


@pytest.mark.parametrize(
    ("answer", "status", "error"),
    [
        ((502, {"x": 1}), "queued", "ServerNetworkError"),
        ((200, {"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "x"}, "RequestId": "r"}}), "queued", "RequestLimitExceeded"),
        ((200, {"Response": {"Error": {"Code": "InternalError.Timeout", "Message": "x"}, "RequestId": "r"}}), "queued", "InternalError"),
        ((200, {"Response": {"Error": {"Code": "FailedOperation.TemplateIncorrectOrUnapproved", "Message": "t"}, "RequestId": "r"}}), "failed", "Template"),
        ((200, {"Response": {"Error": {"Code": "FailedOperation.SignatureIncorrectOrUnapproved", "Message": "s"}, "RequestId": "r"}}), "failed", "Signature"),
    ],
)  # fmt: skip
def test_tencent_outcomes_retried_or_failed(stub, monkeypatch, answer, status, error):
    stub.env(monkeypatch, "tencent")
    stub.script.append(answer)
    _queue(make_customer())
    _round()
    sms = _sms().get()
    assert sms.status == status and error in sms.error


def test_tencent_refuses_an_incorrect_number_per_number(stub, monkeypatch):
    stub.env(monkeypatch, "tencent")
    bad = make_customer()
    stub.refuse[f"+86{bad.phone}"] = "invalid"
    _queue(bad)
    _round()
    sms = _sms().get()
    assert sms.status == "failed" and "IncorrectPhoneNumber" in sms.error and sms.attempts == 1


def test_tencent_sends_equal_parameters_in_one_request(stub, monkeypatch):
    stub.env(monkeypatch, "tencent")
    monkeypatch.setenv("TENCENT_SMS_TEMPLATES", "supply_interruption=200009,low_balance=200001")
    customers = [make_customer() for _ in range(3)]
    same = {"starts_at": "11-03 09:00", "ends_at": "11-03 17:00", "reason": "维修", "area": "朝阳区"}
    outbox.enqueue("supply_interruption", [("si:1", c.pk, same) for c in customers])
    for n, customer in enumerate(customers):  # per-customer parameters go one a request
        _queue(customer, ref=f"low:{n}", variables={"balance": f"{n}.00"})
    assert _round()["sent"] == 12
    sends = [json.loads(r["body"]) for r in stub.requests if r["headers"].get("X-TC-Action") == "SendSms"]
    district = [s for s in sends if s["TemplateId"] == "200009"]
    assert len(district) == 1 and len(district[0]["PhoneNumberSet"]) == 3
    assert district[0]["TemplateParamSet"] == ["11-03 09:00", "11-03 17:00", "维修", "朝阳区"]
    assert len(sends) == 4


def test_tencent_recover_asks_the_provider_by_session_context(stub, monkeypatch):
    stub.env(monkeypatch, "tencent")
    went, lost = make_customer(), make_customer()
    _queue(went, ref="low:1")
    _queue(lost, ref="low:2")
    now = timezone.now() + timedelta(seconds=1)
    sender.claim(100, now)
    TencentSmsAdapter().send(_sms().get(customer=went), "", "")
    later = now + sender.stale_after() + timedelta(seconds=1)
    assert sender.recover(later)["settled"] == 1
    sender.send_due(now=later)
    assert stub.by_recipient() == {f"+86{went.phone}": 1, f"+86{lost.phone}": 1}


# --- WeChat ------------------------------------------------------------------------------------


def _wechat_customer(openid):
    customer = make_customer()
    preferences.save(customer, wechat=True)
    customer.notification_preference.wechat_openid = openid
    customer.notification_preference.save()
    return customer


def test_wechat_template_message_with_a_cached_token(stub, monkeypatch):
    stub.env(monkeypatch, "aliyun")
    monkeypatch.setenv("NOTIFY_WECHAT_PROVIDER", "wechat")
    cache.clear()
    first, second = _wechat_customer("oid-1"), _wechat_customer("oid-2")
    _queue(first, ref="low:1")
    _queue(second, ref="low:2")
    _round()
    wechat = {d["to"]: d for d in stub.deliveries if d["provider"] == "wechat"}
    assert wechat["oid-1"]["template"] == "tpl-low" and wechat["oid-1"]["token"] == "token-1"
    assert wechat["oid-1"]["variables"] == {"account_no": first.account_no, "balance": "3.00"}
    assert len([r for r in stub.requests if r.get("wechat") == "token"]) == 1  # fetched once
    assert set(Message.objects.filter(channel="wechat").values_list("status", flat=True)) == {"sent"}


@pytest.mark.parametrize(
    ("refusal", "answer", "status", "error"),
    [
        ("unsubscribed", None, "failed", "43004"),
        ("invalid", None, "failed", "40003"),
        (None, (200, {"errcode": -1, "errmsg": "system error"}), "queued", "-1"),
        (None, (200, {"errcode": 45009, "errmsg": "api freq out of limit"}), "queued", "45009"),
        (None, (502, {"x": 1}), "queued", "HTTP 502"),
    ],
)
def test_wechat_outcomes_retried_or_failed(stub, monkeypatch, refusal, answer, status, error):
    stub.env(monkeypatch, "aliyun")
    monkeypatch.setenv("NOTIFY_WECHAT_PROVIDER", "wechat")
    cache.clear()
    if refusal:
        stub.refuse["oid-1"] = refusal
    if answer:
        stub.script.append(answer)
    stub.script.insert(0, (200, {"Code": "OK", "Message": "OK", "BizId": "b"}))  # the SMS
    _queue(_wechat_customer("oid-1"))
    _round()
    message = Message.objects.get(channel="wechat")
    assert message.status == status and error in message.error


def test_a_message_caught_mid_send_on_wechat_is_left_for_a_person(stub, monkeypatch):
    stub.env(monkeypatch, "aliyun")
    monkeypatch.setenv("NOTIFY_WECHAT_PROVIDER", "wechat")
    _queue(_wechat_customer("oid-1"))
    now = timezone.now() + timedelta(seconds=1)
    sender.claim(100, now)
    sender.recover(now + sender.stale_after() + timedelta(seconds=1))
    message = Message.objects.get(channel="wechat")
    assert message.status == "failed" and "mid-send" in message.error


# --- the channel page --------------------------------------------------------------------------


def test_channels_configured_by_environment_without_secrets(stub, monkeypatch, client):
    from tests.factories import make_user

    for name in ("ALIYUN_SMS_ACCESS_KEY_ID", "TENCENT_SMS_SECRET_ID", "WECHAT_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    assert not AliyunSmsAdapter().configured() and not WechatAdapter().configured()
    monkeypatch.setenv("NOTIFY_SMS_PROVIDER", "aliyun")
    assert channels.active("sms") is None  # named but not configured: no SMS is queued
    stub.env(monkeypatch, "aliyun")
    assert isinstance(channels.active("sms"), AliyunSmsAdapter)
    monkeypatch.setenv("NOTIFY_SMS_PROVIDER", "tencent")
    assert isinstance(channels.active("sms"), TencentSmsAdapter)
    client.force_login(make_user("admin"))
    page = client.get("/notifications/channels/").content.decode()
    assert "Aliyun SMS" in page and "Tencent Cloud SMS" in page and "WeChat Official Account" in page
    assert "secret-test" not in page and "LTAI-test" not in page


def test_two_messages_to_one_number_in_a_round_go_in_waves_and_recover_in_order(stub, monkeypatch):
    from gasworks.notifications.channels.base import waves

    stub.env(monkeypatch, "aliyun")
    customer, other = make_customer(), make_customer()
    _queue(customer, ref="low:1", variables={"balance": "1.00"})
    _queue(customer, ref="low:2", variables={"balance": "2.00"})
    _queue(other, ref="low:3", variables={"balance": "3.00"})
    now = timezone.now() + timedelta(seconds=1)
    sender.claim(100, now)
    first, second, third = _sms()
    assert [[m.pk for m in wave] for wave in waves([second, third, first])] == [
        [first.pk, third.pk],
        [second.pk],
    ]
    AliyunSmsAdapter().send_many([(first, "", ""), (third, "", "")])  # the first wave, then killed
    later = now + sender.stale_after() + timedelta(seconds=1)
    sender.recover(later)
    assert dict(_sms().values_list("pk", "status")) == {
        first.pk: "sent",
        second.pk: "queued",
        third.pk: "sent",
    }
    sender.send_due(now=later)
    balances = sorted(d["variables"]["balance"] for d in stub.deliveries)
    assert balances == ["1.00", "2.00", "3.00"]  # each once, the right words to each
