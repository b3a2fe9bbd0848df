"""Tencent Cloud SMS (腾讯云短信) through its maintained SDK, `tencentcloud-sdk-python-sms`.

Environment: TENCENT_SMS_SECRET_ID, TENCENT_SMS_SECRET_KEY, TENCENT_SMS_APP_ID (the SmsSdkAppId),
TENCENT_SMS_SIGN_NAME, TENCENT_SMS_TEMPLATES (`kind=123456,...`), TENCENT_SMS_REGION (default
ap-guangzhou) and TENCENT_SMS_ENDPOINT to point elsewhere than sms.tencentcloudapi.com.

Tencent templates take positional parameters: {1} is the account number, then the event's own
variables in the order texts.py lists them. One request takes up to 200 numbers with the same
parameters, so only messages whose parameters are equal share a request (a supply interruption
told to a district); per-customer ones (a bill's amount) go one a request.

Each request carries our claim's id as `SessionContext`, which Tencent returns with each status
(PullSmsSendStatusByPhoneNumber): it does not deduplicate by it, but `query` can tell whether a
message caught mid-send went out (the status pull must be enabled in the console)."""

from __future__ import annotations

from datetime import timedelta
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

BATCH = 200
# Codes worth trying again (prefixes): throttling, a number's frequency limit, the provider's
# own faults and the network. Everything else (an incorrect number, a template or signature not
# approved, a blacklisted number...) fails at once.
RETRY_PREFIXES = (
    "RequestLimitExceeded",
    "LimitExceeded",
    "InternalError",
    "ServerNetworkError",
    "ClientNetworkError",
    "FailedOperation.InsufficientBalanceInSmsPackage",
)


def classify(code: str, words: str, ref: str = "") -> Outcome:
    if code == "Ok":
        return Outcome(sent=True, ref=ref)
    return Outcome(sent=False, retry=code.startswith(RETRY_PREFIXES), error=f"{code}: {words}"[:255])


def e164(phone: str) -> str:
    return phone if phone.startswith("+") else f"+86{phone}"


@lru_cache(maxsize=4)
def _client(secret_id: str, secret_key: str, region: str, endpoint: str):
    # One client per configuration and process: its HTTP session keeps connections open.
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import sms_client

    scheme, _sep, host = endpoint.rpartition("://")
    http = HttpProfile(endpoint=host or "sms.tencentcloudapi.com", reqTimeout=10, keepAlive=True)
    http.scheme = scheme or "https"
    return sms_client.SmsClient(
        credential.Credential(secret_id, secret_key), region, ClientProfile(httpProfile=http)
    )


class TencentSmsAdapter(Adapter):
    code = "tencent"
    channel = "sms"

    def configured(self) -> bool:
        names = ("SECRET_ID", "SECRET_KEY", "APP_ID", "SIGN_NAME")
        return all(env(f"TENCENT_SMS_{name}") for name in names)

    def describe(self) -> str:
        return summary(
            _("Tencent Cloud SMS"), env("TENCENT_SMS_SIGN_NAME"), template_ids("TENCENT_SMS_TEMPLATES")
        )

    def address(self, customer, preference):
        return (customer.phone, "") if customer.phone else ("", "no phone number")

    def client(self):
        return _client(
            env("TENCENT_SMS_SECRET_ID"),
            env("TENCENT_SMS_SECRET_KEY"),
            env("TENCENT_SMS_REGION") or "ap-guangzhou",
            env("TENCENT_SMS_ENDPOINT"),
        )

    def send(self, message, subject, text):
        return self.send_many([(message, subject, text)])[0]

    def send_many(self, items):
        templates = template_ids("TENCENT_SMS_TEMPLATES")
        outcomes: dict[int, Outcome] = {}
        ready = []
        for message, _subject, _text in items:
            if templates.get(message.event):
                ready.append(message)
            else:
                outcomes[message.pk] = Outcome(sent=False, error=f"no Tencent template for {message.event}")
        for wave in waves(ready):
            groups: dict[tuple, list] = {}
            for message in wave:
                params = tuple(provider_variables(message).values())
                groups.setdefault((templates[message.event], params, message.out_id), []).append(message)
            jobs = [
                (template, list(params), out_id, messages[start : start + BATCH])
                for (template, params, out_id), messages in groups.items()
                for start in range(0, len(messages), BATCH)
            ]
            for answers in in_parallel(self._send_chunk, jobs):
                outcomes.update(answers)
        return [outcomes[message.pk] for message, _s, _t in items]

    def _send_chunk(
        self, template: str, params: list[str], out_id: str, messages: list
    ) -> dict[int, Outcome]:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.PhoneNumberSet = [e164(m.address) for m in messages]
        request.SmsSdkAppId = env("TENCENT_SMS_APP_ID")
        request.SignName = env("TENCENT_SMS_SIGN_NAME")
        request.TemplateId = template
        request.TemplateParamSet = params
        request.SessionContext = out_id
        try:
            response = self.client().SendSms(request)
        except TencentCloudSDKException as exc:
            code, words = exc.get_code() or "", exc.get_message() or ""
            if code == "ClientNetworkError" and "timed out" in words.lower():  # sent, perhaps
                unknown = Outcome(sent=False, unknown=True, error=f"{code}: {words}"[:255])
                return {m.pk: unknown for m in messages}
            fault = classify(code, words)
            return {m.pk: fault for m in messages}
        by_number = {status.PhoneNumber: status for status in response.SendStatusSet or []}
        answers = {}
        for message in messages:
            status = by_number.get(e164(message.address))
            if status is None:
                answers[message.pk] = Outcome(sent=False, retry=True, error="no status for this number")
            else:
                answers[message.pk] = classify(
                    status.Code or "", status.Message or "", f"tencent:{status.SerialNo}"
                )
        return answers

    def query(self, message):
        """Statuses pulled for this number since the claim, under our claim's SessionContext."""
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        since = (message.claimed_at or timezone.now()) - timedelta(minutes=1)
        request = models.PullSmsSendStatusByPhoneNumberRequest()
        request.BeginTime = int(since.timestamp())
        request.EndTime = int(timezone.now().timestamp())
        request.Offset = 0
        request.Limit = 100
        request.PhoneNumber = e164(message.address)
        request.SmsSdkAppId = env("TENCENT_SMS_APP_ID")
        try:
            response = self.client().PullSmsSendStatusByPhoneNumber(request)
        except TencentCloudSDKException:
            return None
        return [
            f"tencent:{row.SerialNo}"
            for row in response.PullSmsSendStatusSet or []
            if row.SessionContext == message.out_id
        ]
