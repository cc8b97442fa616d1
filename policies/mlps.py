"""The MLPS 2.0 (GB/T 22239-2019, level 3) evidence workbook an auditor takes away: Chinese first, English beside
it, whatever the console's language; real dates; every cell through web.tables.safe_cell."""

from __future__ import annotations

import io
from datetime import datetime

from django.utils import timezone

from policies.choices import Status
from policies.rules import rule_set
from policies.services import WAIVED, ActiveWaivers, VisibleLines, clause_key, mlps_section, sheet_name
from web.tables import safe_cell

# An auditor's file: Chinese first, English beside it, whatever the console's language.
MLPS_EVIDENCE = "证据（行号: 配置行）Evidence (line: config line)"
MLPS_HEADER = ["设备 Device", "区县 County/district", "站点 Site", "单位 Agency", "规则 Rule", "规则名称 Rule title",
               "严重程度 Severity", "状态 Status", "豁免原因 Waiver reason", "豁免到期 Waiver expires",
               "问题 Finding", MLPS_EVIDENCE, "整改 Remediation", "检查时间 Checked at"]
MLPS_STATUS = {Status.PASS: "通过 Pass", Status.FAIL: "不通过 Fail", Status.ERROR: "无法检查 Error",
               WAIVED: "已豁免 Waived", Status.NOT_APPLICABLE: "不适用 Not applicable"}
MLPS_SEVERITY = {"low": "低 Low", "medium": "中 Medium", "high": "高 High", "critical": "严重 Critical"}
SUMMARY_HEADER = ["条款 Clause", "控制点 Control", "规则 Rules", "设备 Devices", "通过 Pass", "不通过 Fail",
                  "已豁免 Waived", "不适用 Not applicable", "符合率 Score (%)", "工作表 Sheet"]
MLPS_WIDTHS = [22, 12, 26, 26, 26, 36, 10, 14, 30, 18, 50, 60, 44, 18]
MLPS_WRAPPED = {10, 11, 12}  # finding, evidence, remediation: several lines each


def evidence_text(evidence) -> str:
    return "\n".join(f"{number}: {line}" for number, line in evidence)


def _cell(value):
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None)  # Excel holds no time zone: the configured one's time
    return safe_cell(value)


def evidence_workbook(results, scope_name: str, user, places: dict, counties: list, rule_title) -> bytes:
    """A summary, then one sheet per clause with a row per device and rule (not-applicable rules counted, not
    listed), its status, waiver, evidence and remediation. `results` carry `shown` (with_shown_status); `places`
    names each county path, `counties` are (path, slug) pairs; secrets show as `user` may see them."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    clauses: dict[str, list] = {}
    for rule in rule_set().rules:
        for clause in rule.mlps:
            clauses.setdefault(clause, []).append(rule)
    counties = sorted(counties, key=lambda item: -len(item[0]))  # the county before the city that contains it
    waivers = ActiveWaivers()
    book = Workbook(write_only=True)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")

    def styled(sheet, value, style):
        cell = WriteOnlyCell(sheet, value=_cell(value))
        if isinstance(style, Font):
            cell.font = style
        else:
            cell.alignment = style
        return cell

    summary = book.create_sheet("汇总 Summary")
    for index, width in enumerate([16, 60, 50, 10, 10, 10, 10, 14, 14, 14], start=1):
        summary.column_dimensions[get_column_letter(index)].width = width
    taken = {"汇总 summary"}
    summary_rows = []
    for clause in sorted(clauses, key=clause_key):
        rules = clauses[clause]
        sheet_title = sheet_name(clause, taken)
        sheet = book.create_sheet(sheet_title)
        for index, width in enumerate(MLPS_WIDTHS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "B3"  # the title and header rows and the device column stay in view
        zh, en = mlps_section(clause)
        sheet.append([styled(sheet, f"GB/T 22239-2019 {clause} {zh} {en}".strip(), bold)])
        sheet.append([styled(sheet, title, bold) for title in MLPS_HEADER])
        counts, devices = {key: 0 for key in MLPS_STATUS}, set()
        rows = results.filter(rule__in=[r.id for r in rules]).order_by("device__name", "rule")
        by_id = {r.id: r for r in rules}
        for r in rows.iterator(chunk_size=2000):
            counts[r.shown] = counts.get(r.shown, 0) + 1
            if r.shown == Status.NOT_APPLICABLE:
                continue
            devices.add(r.device_id)
            path = r.device.site.region.path
            county = next((places.get(s, "") for p, s in counties if path.startswith(p)), "")
            waiver = waivers.covering(r.device_id, r.rule, path) if r.shown == WAIVED else None
            visible = VisibleLines(user, r.device.platform)
            sheet.append([styled(sheet, v, wrap) if i in MLPS_WRAPPED else _cell(v) for i, v in enumerate((
                r.device.name, county, r.device.site.name, r.device.site.agency.name if r.device.site.agency else "",
                r.rule, rule_title(by_id, r.rule), MLPS_SEVERITY.get(r.severity, r.severity),
                MLPS_STATUS.get(r.shown, r.shown), waiver.reason if waiver else None,
                waiver.expires_at if waiver else None, visible.message(r.message),
                evidence_text(visible.evidence(r.evidence)), "\n".join(visible.lines(r.remediation)),
                r.checked_at))])
        judged = counts[Status.PASS] + counts[Status.FAIL] + counts[Status.ERROR]
        summary_rows.append([clause, f"{zh} {en}".strip(), ", ".join(r.id for r in rules), len(devices),
                             counts[Status.PASS], counts[Status.FAIL] + counts[Status.ERROR], counts[WAIVED],
                             counts[Status.NOT_APPLICABLE],
                             round(100 * counts[Status.PASS] / judged, 1) if judged else None, sheet_title])
    summary.append([styled(summary, "网络安全等级保护 2.0（GB/T 22239-2019）第三级 合规证据 · "
                                     "MLPS 2.0 level 3 compliance evidence", bold)])
    summary.append(["范围 Scope", _cell(scope_name)])
    summary.append(["生成时间 Generated at", _cell(timezone.now())])
    summary.append(["生成人 Generated by", _cell(user.get_username())])
    summary.append(["说明 Note", "每个条款一个工作表，每行一台设备的一条规则；不适用的规则只计数。"
                                "One sheet per clause, one row per device and rule; rules that do not apply are "
                                "counted, not listed."])
    summary.append([])
    summary.append([styled(summary, title, bold) for title in SUMMARY_HEADER])
    for row in summary_rows:
        summary.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
