"""A local HTTP stand-in for the SMS and WeChat providers, for the adapter tests, the crash test
and the sender's benchmark. The real SDKs build and sign real requests against it (their endpoint
is overridden by environment); it answers as the providers document:

- Aliyun SMS (RPC style, `Action` in the query): SendSms, SendBatchSms, QuerySendDetails;
- Tencent Cloud SMS (TC3, `X-TC-Action` header, JSON): SendSms, PullSmsSendStatusByPhoneNumber;
- WeChat Official Account: /cgi-bin/token and /cgi-bin/message/template/send.

Every delivery is kept (`deliveries`: provider, phone or openid, template, variables, signature,
our id) so a test can count deliveries per recipient. `script` holds answers to give instead of
delivering (an HTTP status and a JSON body, "hang" for a timeout, or "deliver-then-hang" for a
delivery whose answer never comes), taken in order; `refuse`
maps a phone or openid to a refusal given every time. `delay` slows each answer (the crash test
kills the sender while it waits)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ALIYUN_REFUSALS = {
    "invalid": ("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
    "blacklisted": ("isv.BLACK_KEY_CONTROL_LIMIT", "黑名单管控"),
}
TENCENT_REFUSALS = {
    "invalid": ("InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number"),
    "blacklisted": ("UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber", "blacklisted"),
}
WECHAT_REFUSALS = {"invalid": (40003, "invalid openid"), "unsubscribed": (43004, "require subscribe")}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a sender killed mid-request drops its connection: not the stub's fault


class Stub:
    def __init__(self, delay: float = 0.0, keep: bool = True):
        self.delay = delay
        self.keep = keep  # the benchmark counts only
        self.deliveries: list[dict] = []
        self.requests: list[dict] = []
        self.count = 0
        self.script: list[tuple[int, dict] | str] = []
        self.refuse: dict[str, str] = {}
        self.on_answer = None  # called with the request's headers after each answer is written
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Stub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def env(self, monkeypatch, provider: str = "aliyun") -> None:
        """Point the adapters at this stub (keys and template ids made up)."""
        values = {
            "NOTIFY_SMS_PROVIDER": provider,
            "ALIYUN_SMS_ACCESS_KEY_ID": "LTAI-test",
            "ALIYUN_SMS_ACCESS_KEY_SECRET": "secret-test",
            "ALIYUN_SMS_SIGN_NAME": "燃气公司",
            "ALIYUN_SMS_TEMPLATES": "low_balance=SMS_100001,bill_issued=SMS_100002,emergency_dispatched=SMS_100003",
            "ALIYUN_SMS_ENDPOINT": f"http://{self.endpoint}",
            "TENCENT_SMS_SECRET_ID": "AKID-test",
            "TENCENT_SMS_SECRET_KEY": "secret-test",
            "TENCENT_SMS_APP_ID": "1400000001",
            "TENCENT_SMS_SIGN_NAME": "燃气公司",
            "TENCENT_SMS_TEMPLATES": "low_balance=200001,bill_issued=200002,emergency_dispatched=200003",
            "TENCENT_SMS_ENDPOINT": f"http://{self.endpoint}",
            "WECHAT_APP_ID": "wx-test",
            "WECHAT_APP_SECRET": "secret-test",
            "WECHAT_TEMPLATES": "low_balance=tpl-low,bill_issued=tpl-bill,emergency_dispatched=tpl-emergency",
            "WECHAT_API_BASE": f"http://{self.endpoint}/cgi-bin/",
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    def by_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for delivery in self.deliveries:
            counts[delivery["to"]] = counts.get(delivery["to"], 0) + 1
        return counts

    # --- the answers -------------------------------------------------------------------------

    def _scripted(self):
        with self.lock:
            return self.script.pop(0) if self.script else None

    def _deliver(self, **delivery) -> None:
        with self.lock:
            self.count += 1
            if self.keep:
                self.deliveries.append(delivery)

    def aliyun(self, action: str, query: dict, form: dict) -> tuple[int, dict]:
        params = {**query, **form}
        if action == "QuerySendDetails":
            phone, rows = params.get("PhoneNumber"), []
            for d in self.deliveries:
                if d["provider"] == "aliyun" and d["to"] == phone:
                    rows.append(
                        {
                            "PhoneNum": phone,
                            "OutId": d["out_id"],
                            "TemplateCode": d["template"],
                            "SendStatus": 3,
                            "ErrCode": "DELIVERED",
                            "Content": json.dumps(d["variables"], ensure_ascii=False),
                        }
                    )
            return 200, {
                "Code": "OK",
                "Message": "OK",
                "TotalCount": len(rows),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": rows},
            }
        if action == "SendBatchSms":
            phones = json.loads(params["PhoneNumberJson"])
            signs = json.loads(params["SignNameJson"])
            variables = json.loads(params.get("TemplateParamJson") or "[]") or [{}] * len(phones)
        else:
            phones = params["PhoneNumbers"].split(",")
            signs = [params["SignName"]] * len(phones)
            variables = [json.loads(params.get("TemplateParam") or "{}")] * len(phones)
        for phone in phones:
            if phone in self.refuse:
                code, words = ALIYUN_REFUSALS[self.refuse[phone]]
                return 200, {"Code": code, "Message": words, "RequestId": "req-refused"}
        for phone, sign, values in zip(phones, signs, variables, strict=True):
            self._deliver(
                provider="aliyun",
                to=phone,
                template=params["TemplateCode"],
                variables=values,
                sign=sign,
                out_id=params.get("OutId", ""),
            )
        return 200, {"Code": "OK", "Message": "OK", "BizId": f"biz{self.count}", "RequestId": "req-ok"}

    def tencent(self, action: str, body: dict) -> tuple[int, dict]:
        if action == "PullSmsSendStatusByPhoneNumber":
            phone = body["PhoneNumber"]
            rows = [
                {
                    "PhoneNumber": d["to"],
                    "SerialNo": d["serial"],
                    "ReportStatus": "SUCCESS",
                    "Description": "DELIVRD",
                    "SessionContext": d["out_id"],
                    "UserReceiveTime": int(time.time()),
                    "CountryCode": "86",
                    "SubscriberNumber": d["to"][-11:],
                }
                for d in self.deliveries
                if d["provider"] == "tencent" and d["to"] == phone
            ]
            return 200, {"Response": {"PullSmsSendStatusSet": rows, "RequestId": "req-pull"}}
        statuses = []
        for phone in body["PhoneNumberSet"]:
            if phone in self.refuse:
                code, words = TENCENT_REFUSALS[self.refuse[phone]]
                statuses.append({"PhoneNumber": phone, "Code": code, "Message": words, "SerialNo": ""})
                continue
            serial = f"serial{self.count + 1}"
            self._deliver(
                provider="tencent",
                to=phone,
                template=body["TemplateId"],
                variables=body.get("TemplateParamSet", []),
                sign=body.get("SignName", ""),
                out_id=body.get("SessionContext", ""),
                serial=serial,
            )
            statuses.append(
                {
                    "PhoneNumber": phone,
                    "Code": "Ok",
                    "Message": "send success",
                    "SerialNo": serial,
                    "SessionContext": body.get("SessionContext", ""),
                    "Fee": 1,
                    "IsoCode": "CN",
                }
            )
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": "req-send"}}

    def wechat(self, path: str, query: dict, body: dict) -> tuple[int, dict]:
        if path.endswith("/token"):
            with self.lock:
                self.requests.append({"wechat": "token"})
            return 200, {"access_token": "token-1", "expires_in": 7200}
        openid = body.get("touser", "")
        if openid in self.refuse:
            code, words = WECHAT_REFUSALS[self.refuse[openid]]
            return 200, {"errcode": code, "errmsg": words}
        self._deliver(
            provider="wechat",
            to=openid,
            template=body.get("template_id", ""),
            variables={k: v.get("value") for k, v in body.get("data", {}).items()},
            sign="",
            out_id="",
            token=query.get("access_token", ""),
        )
        return 200, {"errcode": 0, "errmsg": "ok", "msgid": 1000 + self.count}

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the SDKs reuse their connections

            def log_message(self, *args):
                pass

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if stub.keep:
                    with stub.lock:
                        stub.requests.append(
                            {"path": self.path, "headers": dict(self.headers), "body": raw.decode()}
                        )
                if stub.delay:
                    time.sleep(stub.delay)
                action = self.headers.get("X-TC-Action")
                aliyun_action = self.headers.get("x-acs-action", "")
                reading = action not in (None, "SendSms") or aliyun_action == "QuerySendDetails"
                scripted = None if reading or "/token" in parts.path else stub._scripted()
                if scripted == "hang":
                    time.sleep(3)
                    return
                if scripted == "deliver-then-hang":
                    form = dict(parse_qsl(raw.decode())) if raw else {}
                    stub.aliyun(aliyun_action, query, form)
                    time.sleep(3)
                    return
                if scripted is not None:
                    self._answer(*scripted)
                    return
                if action:
                    status, payload = stub.tencent(action, json.loads(raw or b"{}"))
                elif parts.path.startswith("/cgi-bin"):
                    status, payload = stub.wechat(parts.path, query, json.loads(raw or b"{}"))
                else:
                    form = dict(parse_qsl(raw.decode())) if raw else {}
                    status, payload = stub.aliyun(aliyun_action, query, form)
                self._answer(status, payload)
                self.wfile.flush()
                if stub.on_answer is not None:
                    stub.on_answer(self.headers)

            do_GET = do_POST = _handle

        return Handler


def main() -> None:
    """Run a stub on a port of its own until killed, printing its endpoint (the benchmark)."""
    import signal
    import sys

    def stop(*_args):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    stub = Stub(keep=False)
    print(stub.endpoint, flush=True)
    try:
        stub.server.serve_forever()
    finally:
        print(stub.count, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
