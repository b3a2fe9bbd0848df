"""Aliyun SMS (阿里云短信服务) through its maintained SDK, `alibabacloud-dysmsapi20170525`.

Environment: ALIYUN_SMS_ACCESS_KEY_ID, ALIYUN_SMS_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME (the
approved signature, without 【】), ALIYUN_SMS_TEMPLATES (`kind=SMS_xxx,...`), and
ALIYUN_SMS_ENDPOINT to point elsewhere than dysmsapi.aliyuncs.com (tests: a local stub).

Each request carries our claim's id as `OutId`, which Aliyun keeps with every message and returns
from QuerySendDetails: Aliyun does not deduplicate by it, but it lets `query` tell whether a
message caught mid-send went out. Messages of one template go out 100 numbers a request
(SendBatchSms takes a template parameter per number, so per-customer variables fit)."""

from __future__ import annotations

import json
from functools import lru_cache

from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.notifications.channels.base import (
    Adapter,
    Outcome,
    env,
    in_parallel,
    provider_variables,
    summary,
    template_ids,
    waves,
)

BATCH = 100  # SendBatchSms takes up to 100 numbers
READ_TIMEOUT_MS = 10000
# Worth trying again: flow control, the provider's own faults. Everything else Aliyun answers
# (an illegal or blacklisted number, a template or signature it refuses...) fails at once.
RETRY_CODES = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.DAY_LIMIT_CONTROL",
    "isp.SYSTEM_ERROR",
    "isp.GATEWAY_ERROR",
    "ServiceUnavailable",
    "InternalError",
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
}
# Refusals of one number in a batch: the batch is sent again number by number, so that only the
# refused number fails.
PER_NUMBER = {"isv.MOBILE_NUMBER_ILLEGAL", "isv.BLACK_KEY_CONTROL_LIMIT", "isv.MOBILE_COUNT_OVER_LIMIT"}


def outcome(code: str, words: str, ref: str = "") -> Outcome:
    if code == "OK":
        return Outcome(sent=True, ref=ref)
    return Outcome(sent=False, retry=code in RETRY_CODES, error=f"{code}: {words}"[:255])


@lru_cache(maxsize=4)
def _client(key_id: str, secret: str, endpoint: str):
    # One client per configuration and process: it keeps its HTTP connections open.
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi.models import Config

    protocol, _sep, host = endpoint.rpartition("://")
    return Client(
        Config(
            access_key_id=key_id,
            access_key_secret=secret,
            endpoint=host or "dysmsapi.aliyuncs.com",
            protocol=protocol or "https",
            connect_timeout=3000,
            read_timeout=10000,
        )
    )


def _runtime():
    from darabonba.runtime import RuntimeOptions

    # No retry inside the SDK: the sender's backoff decides, and a blind retry could send twice.
    return RuntimeOptions(autoretry=False, connect_timeout=3000, read_timeout=READ_TIMEOUT_MS)


def _fault(exc: Exception) -> Outcome:
    """An exception from the SDK: a 5xx, a timeout or a lost connection is retried; a 4xx names
    its code (a refused key or signature) and fails unless it is throttling."""
    code = str(getattr(exc, "code", "") or "")
    status = getattr(exc, "status_code", None) or getattr(exc, "statusCode", None)
    words = str(getattr(exc, "message", "") or exc)
    if status is None and "timed out" in words.lower():  # sent, perhaps: recover() asks Aliyun
        return Outcome(sent=False, unknown=True, error=f"{type(exc).__name__}: {words}"[:255])
    if status is None or int(status) >= 500 or code in RETRY_CODES or code.startswith("Throttling"):
        return Outcome(sent=False, retry=True, error=f"{code or type(exc).__name__}: {words}"[:255])
    return Outcome(sent=False, error=f"{code}: {words}"[:255])


class AliyunSmsAdapter(Adapter):
    code = "aliyun"
    channel = "sms"

    def configured(self) -> bool:
        return all(env(f"ALIYUN_SMS_{name}") for name in ("ACCESS_KEY_ID", "ACCESS_KEY_SECRET", "SIGN_NAME"))

    def describe(self) -> str:
        return summary(_("Aliyun SMS"), env("ALIYUN_SMS_SIGN_NAME"), template_ids("ALIYUN_SMS_TEMPLATES"))

    def address(self, customer, preference):
        return (customer.phone, "") if customer.phone else ("", "no phone number")

    def client(self):
        return _client(
            env("ALIYUN_SMS_ACCESS_KEY_ID"), env("ALIYUN_SMS_ACCESS_KEY_SECRET"), env("ALIYUN_SMS_ENDPOINT")
        )

    def send(self, message, subject, text):
        return self.send_many([(message, subject, text)])[0]

    def send_many(self, items):
        templates = template_ids("ALIYUN_SMS_TEMPLATES")
        outcomes: dict[int, Outcome] = {}
        ready = []
        for message, _subject, _text in items:
            if templates.get(message.event):
                ready.append(message)
            else:
                outcomes[message.pk] = Outcome(sent=False, error=f"no Aliyun template for {message.event}")
        for wave in waves(ready):
            groups: dict[tuple[str, str], list] = {}
            for message in wave:
                groups.setdefault((templates[message.event], message.out_id), []).append(message)
            jobs = [
                (template, out_id, messages[start : start + BATCH])
                for (template, out_id), messages in groups.items()
                for start in range(0, len(messages), BATCH)
            ]
            for answers in in_parallel(self._send_chunk, jobs):
                outcomes.update(answers)
        return [outcomes[message.pk] for message, _s, _t in items]

    def _send_chunk(self, template: str, out_id: str, messages: list) -> dict[int, Outcome]:
        from alibabacloud_dysmsapi20170525 import models

        sign = env("ALIYUN_SMS_SIGN_NAME")
        try:
            if len(messages) == 1:
                (message,) = messages
                request = models.SendSmsRequest(
                    phone_numbers=message.address,
                    sign_name=sign,
                    template_code=template,
                    template_param=json.dumps(provider_variables(message), ensure_ascii=False),
                    out_id=out_id,
                )
                body = self.client().send_sms_with_options(request, _runtime()).body
            else:
                request = models.SendBatchSmsRequest(
                    phone_number_json=json.dumps([m.address for m in messages]),
                    sign_name_json=json.dumps([sign] * len(messages), ensure_ascii=False),
                    template_code=template,
                    template_param_json=json.dumps(
                        [provider_variables(m) for m in messages], ensure_ascii=False
                    ),
                    out_id=out_id,
                )
                body = self.client().send_batch_sms_with_options(request, _runtime()).body
        except Exception as exc:  # the SDK raises its own and the HTTP library's errors
            fault = _fault(exc)
            return {m.pk: fault for m in messages}
        if body.code in PER_NUMBER and len(messages) > 1:
            # One bad number refuses the whole batch: send one by one to find it.
            answers: dict[int, Outcome] = {}
            for message in messages:
                answers.update(self._send_chunk(template, out_id, [message]))
            return answers
        answer = outcome(body.code or "", body.message or "", f"aliyun:{body.biz_id or ''}")
        return {m.pk: answer for m in messages}

    def query(self, message):
        """Deliveries of our claim's OutId to this number with this template (QuerySendDetails,
        for the day the message was claimed)."""
        from alibabacloud_dysmsapi20170525 import models

        template = template_ids("ALIYUN_SMS_TEMPLATES").get(message.event)
        day = timezone.localtime(message.claimed_at or timezone.now()).strftime("%Y%m%d")
        request = models.QuerySendDetailsRequest(
            phone_number=message.address, send_date=day, page_size=50, current_page=1
        )
        try:
            body = self.client().query_send_details_with_options(request, _runtime()).body
        except Exception:  # the provider cannot say now: leave the message for the next round
            return None
        if body.code != "OK":
            return None
        rows = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
        return [
            f"aliyun:{row.out_id}"
            for row in rows or []
            if row.out_id == message.out_id and row.template_code == template
        ]
