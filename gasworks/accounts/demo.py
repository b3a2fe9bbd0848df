"""Demo logins, one per role; printed by `make run` and used by the browser tests."""

DEMO_PASSWORD = "gasworks-demo-2026"

DEMO_USERS = [
    ("admin", "admin", "王管理"),
    ("manager", "manager", "赵站长"),
    ("cashier", "cashier", "李收费"),
    ("reader", "meter_reader", "张抄表"),
    ("inspector", "inspector", "刘安检"),
    ("dispatcher", "dispatcher", "陈调度"),
    ("filler", "filler", "杨充装"),
    ("customer", "customer", ""),
]
