"""A bill as a PDF, in English or Chinese (in the embedded font of gasworks.lib.pdf), with a QR
code that opens the online payment page."""

import io
from datetime import timedelta

from django.conf import settings
from django.utils import translation
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from gasworks.billing.models import Bill, BillLine
from gasworks.lib import qr
from gasworks.lib.money import format_balance, format_money, format_price
from gasworks.lib.pdf import canvas as pdf_canvas
from gasworks.lib.pdf import font as _font
from gasworks.lib.pdf import wrap
from gasworks.system import parameters

# Units are spelled out (m3, 立方米).
# The bill's fixed labels in both languages, so the PDF is right even before the lead's
# translation catalogue exists.
LABELS = {
    "title": ("Gas bill", "燃气费账单"),
    "customer": ("Customer", "用户"),
    "account": ("Account no.", "户号"),
    "address": ("Address", "地址"),
    "period": ("Period", "账期"),
    "readings": ("Readings (previous → current)", "表数（上期 → 本期）"),
    "consumption": ("Consumption", "用气量"),
    "tier": ("Tier", "阶梯"),
    "volume": ("Volume (m3)", "气量（立方米）"),
    "unit": ("m3", "立方米"),
    "price": ("Unit price", "单价"),
    "amount": ("Amount", "金额"),
    "minimum": ("Minimum charge top-up", "最低消费补足"),
    "rent": ("Meter rent", "表租"),
    "this_bill": ("This bill", "本期应缴"),
    "previous": ("Previous balance", "上期余额"),
    "due": ("Amount due", "应缴金额"),
    "due_on": ("Due date", "缴费截止日"),
    "scan": ("Scan to pay online", "扫码在线缴费"),
    "phone": ("Phone", "电话"),
}


def pay_url(bill: Bill) -> str:
    base = getattr(settings, "SITE_URL", "") or ""
    return f"{base.rstrip('/')}/payments/pay/?bill={bill.pk}"


def render_bill(bill: Bill, language: str = "en") -> bytes:
    chinese = language.lower().startswith("zh")
    label = {key: pair[1] if chinese else pair[0] for key, pair in LABELS.items()}
    font = _font()
    customer = bill.customer
    buffer = io.BytesIO()
    pdf = pdf_canvas(buffer, A4)
    width, height = A4
    left, y = 20 * mm, height - 20 * mm

    def text(x, value, size=10):
        pdf.setFont(font, size)
        pdf.drawString(x, y, str(value))

    def paragraph(x, value, size=10, leading=5 * mm):
        """Text from x to the right margin, broken into lines; y ends on its last line."""
        nonlocal y
        lines = wrap(str(value), width - left - x, size)
        for index, line in enumerate(lines):
            text(x, line, size)
            if index < len(lines) - 1:
                y -= leading

    with translation.override("zh-hans" if chinese else "en"):
        paragraph(left, parameters.get("station_name"), 14, 6 * mm)
        y -= 6 * mm
        station_line = " ".join(
            s for s in (parameters.get("station_address"), parameters.get("station_phone")) if s
        )
        if station_line:
            paragraph(left, station_line, 9, 4 * mm)
            y -= 5 * mm
        y -= 4 * mm
        text(left, f"{label['title']}  {bill.period}", 16)
        y -= 10 * mm
        rows = [
            (label["customer"], customer.name),
            (label["account"], customer.account_no),
            (label["address"], customer.premises.address),
            (
                label["period"],
                f"{bill.period_start:%Y-%m-%d} – {bill.period_end - timedelta(days=1):%Y-%m-%d}",
            ),
            (label["readings"], f"{_v(bill.reading_from)} → {_v(bill.reading_to)}"),
            (label["consumption"], f"{bill.volume} {label['unit']}"),
        ]
        for key, shown in rows:
            text(left, key, 10)
            paragraph(left + 55 * mm, shown, 10)
            y -= 6 * mm
        y -= 4 * mm
        columns = (left, left + 25 * mm, left + 65 * mm, left + 105 * mm)
        for x, head in zip(
            columns, (label["tier"], label["volume"], label["price"], label["amount"]), strict=True
        ):
            text(x, head, 10)
        y -= 2 * mm
        pdf.line(left, y, left + 150 * mm, y)
        y -= 6 * mm
        line: BillLine
        for line in bill.lines.order_by("pk"):
            for x, value in zip(
                columns,
                (line.tier, f"{line.volume}", format_price(line.unit_price), format_money(line.amount)),
                strict=True,
            ):
                text(x, value, 10)
            y -= 6 * mm
        extras = []
        if bill.minimum_top_up:
            extras.append((label["minimum"], format_money(bill.minimum_top_up)))
        if bill.meter_rent:
            extras.append((label["rent"], format_money(bill.meter_rent)))
        # previous_balance is the ledger balance before this bill (positive = credit), so the
        # amount due is this bill less any credit, or plus any arrears.
        due = max(bill.total - bill.previous_balance, 0)
        extras += [
            (label["this_bill"], format_money(bill.total)),
            # A debt reads as owed (欠费), a credit as credit (余额): never a bare minus.
            (label["previous"], format_balance(bill.previous_balance)),
            (label["due"], format_money(due)),
            (label["due_on"], f"{bill.due_on:%Y-%m-%d}"),
        ]
        y -= 2 * mm
        for key, value in extras:
            text(left, key, 11)
            text(columns[3], f"{value}", 11)
            y -= 7 * mm
        pdf.drawImage(qr.pdf_image(pay_url(bill)), width - 60 * mm, 40 * mm, 40 * mm, 40 * mm)
        pdf.setFont(font, 9)
        pdf.drawString(width - 60 * mm, 35 * mm, label["scan"])
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _v(value) -> str:
    return "—" if value is None else f"{value}"
