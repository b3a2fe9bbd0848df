"""The rectification notice (安全隐患整改通知书) handed to the customer, as a PDF, in the embedded
font of gasworks.lib.pdf with lines broken by measured width."""

import io

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from gasworks.lib.pdf import canvas as pdf_canvas
from gasworks.lib.pdf import font as _font
from gasworks.lib.pdf import wrap
from gasworks.system import parameters

LEVELS = {"ordinary": "一般隐患", "key": "较大隐患", "major": "重大隐患"}


def rectification_notice(hazard) -> bytes:
    font = _font()
    customer = hazard.customer
    station = parameters.get("station_name")
    phone = parameters.get("emergency_phone") or parameters.get("station_phone")
    buffer = io.BytesIO()
    pdf = pdf_canvas(buffer, A4)
    pdf.setTitle(f"安全隐患整改通知书 {hazard.notice_no}")
    width, height = A4
    right = width - 20 * mm  # the right margin every text line stops at
    y = height - 30 * mm
    pdf.setFont(font, 20)
    pdf.drawCentredString(width / 2, y, "安全隐患整改通知书")
    y -= 9 * mm
    pdf.setFont(font, 10)
    pdf.drawCentredString(width / 2, y, f"编号：{hazard.notice_no}")
    y -= 14 * mm
    pdf.setFont(font, 12)
    rows = [
        ("用户名称", customer.name),
        ("户号", customer.account_no),
        ("用气地址", customer.premises.address),
        ("隐患等级", LEVELS.get(hazard.level, hazard.level)),
        ("发现日期", timezone.localdate(hazard.raised_at).isoformat()),
        ("整改期限", hazard.deadline.isoformat()),
    ]
    for label, value in rows:
        pdf.drawString(25 * mm, y, f"{label}：")
        for line in wrap(str(value), right - 55 * mm, 12):
            pdf.drawString(55 * mm, y, line)
            y -= 7 * mm
        y -= 1 * mm
    pdf.drawString(25 * mm, y, "隐患描述：")
    y -= 7 * mm
    for line in wrap(hazard.description, right - 30 * mm, 12):
        pdf.drawString(30 * mm, y, line)
        y -= 7 * mm
    y -= 4 * mm
    advice = (
        "经入户安全检查，您的用气场所存在上述安全隐患。请您在整改期限内完成整改，"
        "整改完成后请联系我单位复查。整改前请注意通风，发现燃气泄漏请立即关闭阀门、"
        "严禁动用明火和电器开关，并到室外拨打抢修电话。"
    )
    if hazard.level == "major":
        advice += "重大隐患整改并复查合格前，暂停供气（含瓶装气配送、IC卡充值）。"
    for line in wrap(advice, right - 25 * mm, 12):
        pdf.drawString(25 * mm, y, line)
        y -= 7 * mm
    y -= 10 * mm
    pdf.drawString(25 * mm, y, f"供气单位：{station}")
    if phone:
        pdf.drawString(115 * mm, y, f"抢修电话：{phone}")
    y -= 14 * mm
    pdf.drawString(25 * mm, y, "检查人签字：____________")
    pdf.drawString(115 * mm, y, "用户签收：____________")
    y -= 10 * mm
    pdf.drawString(115 * mm, y, "日期：______年____月____日")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
