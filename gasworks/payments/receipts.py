"""The receipt PDF (收据), in the embedded font of gasworks.lib.pdf. Labels are bilingual: the
receipt is a Chinese business document."""

from io import BytesIO

from django.utils import timezone
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm

from gasworks.lib.money import format_money, round_money
from gasworks.lib.pdf import canvas as pdf_canvas
from gasworks.lib.pdf import font, wrap
from gasworks.payments.models import Method, Payment
from gasworks.system import parameters

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_GROUPS = ["", "万", "亿", "万亿"]
METHOD_ZH: dict[str, str] = {
    Method.CASH: "现金",
    Method.CARD: "银行卡",
    Method.BANK: "银行转账",
    Method.ONLINE: "网上支付",
}


def _group(n: int) -> str:
    out, zero = "", False
    for i in range(3, -1, -1):
        digit = n // 10**i % 10
        if digit:
            out += ("零" if zero and out else "") + _DIGITS[digit] + _UNITS[i]
            zero = False
        else:
            zero = True
    return out


def chinese_amount(amount) -> str:
    """Amount in capital Chinese numerals, as receipts print it: 123.45 -> 壹佰贰拾叁元肆角伍分."""
    fen = int(round_money(amount) * 100)
    yuan, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    words, group_index, pending_zero = "", 0, False
    while yuan:
        part = yuan % 10000
        if part:
            text = _group(part) + _GROUPS[group_index]
            words = text + ("零" if pending_zero and words else "") + words
            pending_zero = part < 1000
        else:
            pending_zero = True
        yuan //= 10000
        group_index += 1
    words = (words or "零") + "元"
    if not jiao and not cents:
        return words + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif cents:
        words += "零"
    if cents:
        words += _DIGITS[cents] + "分"
    return words


def render(payment: Payment) -> bytes:
    face = font()
    buffer = BytesIO()
    page = pdf_canvas(buffer, A5)
    page.setTitle(f"Receipt {payment.receipt_no}")
    width, height = A5
    y = height - 20 * mm

    def line(label: str, value: str, size: int = 11) -> None:
        nonlocal y
        page.setFont(face, size)
        page.drawString(15 * mm, y, label)
        lines = wrap(value, width - 55 * mm - 12 * mm, size)
        for index, text in enumerate(lines):
            page.drawString(55 * mm, y, text)
            y -= (8 if index == len(lines) - 1 else 5.5) * mm

    page.setFont(face, 16)
    for text in wrap(f"{parameters.get('station_name')}", width - 24 * mm, 16):
        page.drawCentredString(width / 2, y, text)
        y -= 7 * mm
    y += 7 * mm
    y -= 9 * mm
    address = parameters.get("station_address")
    if address:
        page.setFont(face, 9)
        page.drawCentredString(width / 2, y + 3 * mm, address)
        y -= 3 * mm
    page.setFont(face, 14)
    page.drawCentredString(width / 2, y, "收款收据 Receipt")
    y -= 12 * mm
    customer = payment.customer
    paid_at = timezone.localtime(payment.paid_at or payment.created_at)
    line("收据号 No.", payment.receipt_no or "-")
    line("日期 Date", f"{paid_at:%Y-%m-%d %H:%M}")
    line("户号 Account", customer.account_no)
    line("户名 Name", customer.name)
    line("地址 Address", customer.premises.address)
    line(
        "方式 Method",
        f"{METHOD_ZH.get(payment.method, payment.method)} {payment.get_method_display()}",
    )
    if payment.gateway_txn_id:
        line("交易号 Txn", payment.gateway_txn_id)
    line("金额 Amount", format_money(payment.amount), 13)
    line("大写 In words", chinese_amount(payment.amount))
    if payment.change_given is not None:
        line("实收 Tendered", format_money(payment.tendered))
        line("找零 Change", format_money(payment.change_given))
    if payment.refunded_amount:
        line("已退款 Refunded", format_money(payment.refunded_amount))
    if payment.created_by is not None:
        line("收款员 Cashier", payment.created_by.get_username())
    phone = parameters.get("station_phone")
    page.setFont(face, 9)
    page.drawString(
        15 * mm, 15 * mm, f"订单号 Order {payment.order_no}" + (f"   电话 Tel {phone}" if phone else "")
    )
    page.showPage()
    page.save()
    return buffer.getvalue()
