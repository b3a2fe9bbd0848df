"""House rules that a reading of the source can check ("one writer per table"):

- Raw SQL and backend branches live in an app's ``store.py`` and in ``lib/db.py`` only: nowhere
  else reads ``connection.vendor``, opens a cursor, calls ``.raw()``/``.extra()``/``RawSQL`` or
  executes a statement.
- Money moves only through ``billing/ledger.py``: nowhere else creates, changes or deletes a
  LedgerEntry or writes an Account's balance. Its SQL fast paths are the ``ledger_*`` functions of
  ``billing/store.py``, which only the ledger calls.

The checks walk the syntax tree of every module of the project (migrations aside), so a comment
or a string that mentions these names is not a violation, and a planted violation is (the
synthetic sources below)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "gasworks"

SQL_HOMES = ("lib/db.py",)  # and every */store.py
LEDGER = "billing/ledger.py"
LEDGER_STORE = "billing/store.py"
WRITES = {
    "create",
    "bulk_create",
    "update",
    "delete",
    "get_or_create",
    "update_or_create",
    "bulk_update",
    "save",
}
MONEY_MODELS = {"LedgerEntry", "Account"}


def _chain(node) -> list[ast.AST]:
    """The receivers of an expression, outermost first: a.b(c).d -> [a.b(c).d, a.b(c), a.b, a]."""
    out = []
    while True:
        out.append(node)
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return out


def _names_in_chain(node) -> set[str]:
    return {n.id for n in _chain(node) if isinstance(n, ast.Name)}


def _imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names


def _has_balance(node: ast.Call) -> bool:
    for kw in node.keywords:
        if kw.arg == "balance":
            return True
        if (
            kw.arg == "defaults"
            and isinstance(kw.value, ast.Dict)
            and any(isinstance(k, ast.Constant) and k.value == "balance" for k in kw.value.keys)
        ):
            return True
    return any(
        isinstance(arg, ast.List | ast.Tuple)
        and any(isinstance(e, ast.Constant) and e.value == "balance" for e in arg.elts)
        for arg in node.args
    )


class _Checker(ast.NodeVisitor):
    def __init__(self, path: str, tree: ast.Module):
        self.path = path
        self.sql_home = path.endswith("/store.py") or path == "store.py" or path in SQL_HOMES
        self.imported = _imported(tree)
        self.function: list[str] = []
        self.found: list[str] = []

    def _flag(self, node, what: str) -> None:
        self.found.append(f"{self.path}:{node.lineno}: {what}")

    def _money_allowed(self) -> bool:
        if self.path == LEDGER:
            return True
        return self.path == LEDGER_STORE and any(name.startswith("ledger_") for name in self.function)

    def visit_FunctionDef(self, node):
        self.function.append(node.name)
        self.generic_visit(node)
        self.function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Attribute(self, node):
        if not self.sql_home:
            if node.attr == "vendor":
                self._flag(node, "a backend branch (.vendor) outside a store")
            if node.attr == "RawSQL":
                self._flag(node, "RawSQL outside a store")
        if node.attr == "db_table" and not self._money_allowed():
            owner = node.value  # X._meta.db_table
            if isinstance(owner, ast.Attribute) and _names_in_chain(owner) & MONEY_MODELS:
                self._flag(node, "SQL naming a money table outside the ledger")
        if (
            node.attr.startswith("ledger_")
            and "store" in _names_in_chain(node.value)
            and self.path not in (LEDGER, LEDGER_STORE)
        ):
            self._flag(node, f"the ledger's SQL ({node.attr}) called outside the ledger")
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id == "RawSQL" and not self.sql_home:
            self._flag(node, "RawSQL outside a store")
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        if node.module == "gasworks.billing.store" and self.path not in (LEDGER, LEDGER_STORE):
            for alias in node.names:
                if alias.name.startswith("ledger_"):
                    self._flag(node, f"the ledger's SQL ({alias.name}) imported outside the ledger")
        self.generic_visit(node)

    def visit_Assign(self, node):
        self._assigned(node, node.targets)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._assigned(node, [node.target])
        self.generic_visit(node)

    def _assigned(self, node, targets) -> None:
        if self._money_allowed():
            return
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "balance":
                self._flag(node, "an account balance assigned outside the ledger")

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute) and not self.sql_home:
            receiver = func.value
            if func.attr in ("cursor", "raw", "extra"):
                self._flag(node, f"raw SQL (.{func.attr}()) outside a store")
            elif func.attr in ("execute", "executemany") and not (
                isinstance(receiver, ast.Name) and receiver.id in self.imported
            ):
                self._flag(node, f"a statement executed (.{func.attr}()) outside a store")
        if not self._money_allowed():
            self._money_call(node)
        for kw in node.keywords:
            if (
                kw.arg == "balance"
                and isinstance(kw.value, ast.Call)
                and getattr(kw.value.func, "id", "") == "F"
            ) and not self._money_allowed():
                self._flag(node, "balance=F(...) outside the ledger")
        self.generic_visit(node)

    def _money_call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "LedgerEntry":
            self._flag(node, "a LedgerEntry built outside the ledger")
        if isinstance(func, ast.Name) and func.id == "Account" and _has_balance(node):
            self._flag(node, "an Account built with a balance outside the ledger")
        if isinstance(func, ast.Attribute) and func.attr in WRITES:
            names = _names_in_chain(func.value)
            if "LedgerEntry" in names:
                self._flag(node, f"LedgerEntry rows written (.{func.attr}()) outside the ledger")
            elif "Account" in names and _has_balance(node):
                self._flag(node, f"Account.balance written (.{func.attr}()) outside the ledger")


def violations(path: str, source: str) -> list[str]:
    """The rule breaks of one module; ``path`` is relative to the gasworks package."""
    tree = ast.parse(source)
    checker = _Checker(path, tree)
    checker.visit(tree)
    return checker.found


def _modules():
    for file in sorted(ROOT.rglob("*.py")):
        relative = file.relative_to(ROOT).as_posix()
        if "/migrations/" not in relative:
            yield relative, file.read_text(encoding="utf-8")


def test_the_project_keeps_sql_in_stores_and_money_in_the_ledger():
    found = [v for path, source in _modules() for v in violations(path, source)]
    assert found == []


def test_it_reads_every_module():
    paths = {path for path, _source in _modules()}
    assert {"billing/ledger.py", "billing/runs.py", "billing/store.py", "lib/db.py"} <= paths
    assert len(paths) > 100


PLANTED_SQL = [
    "from django.db import connection\nif connection.vendor == 'postgresql':\n    pass\n",
    "from django.db import connection\nwith connection.cursor() as c:\n    c.execute('SELECT 1')\n",
    "from django.db import connections\nconnections['default'].cursor()\n",
    "def f(cursor):\n    cursor.execute('DELETE FROM x')\n",
    "from gasworks.billing.models import Bill\nBill.objects.raw('SELECT * FROM billing_bill')\n",
    "from django.db.models.expressions import RawSQL\nx = RawSQL('1', [])\n",
    "from django.db.models import expressions\nx = expressions.RawSQL('1', [])\n",
    "from gasworks.billing.models import Bill\nBill.objects.extra(where=['1=1'])\n",
]


@pytest.mark.parametrize("source", PLANTED_SQL)
def test_it_catches_sql_outside_a_store(source):
    assert violations("payments/services.py", source)
    assert violations("lib/db.py", source) == violations("payments/store.py", source) == []


PLANTED_MONEY = [
    "LedgerEntry.objects.create(account=a, kind='charge', amount=1)\n",
    "LedgerEntry.objects.bulk_create(rows)\n",
    "LedgerEntry.objects.filter(pk=1).update(amount=2)\n",
    "LedgerEntry.objects.filter(pk=1).delete()\n",
    "e = LedgerEntry(account=a, amount=1)\n",
    "Account.objects.filter(pk=1).update(balance=5)\n",
    "Account.objects.select_for_update().filter(pk=1).update(balance=F('balance') - 1)\n",
    "Account.objects.bulk_update(accounts, ['balance'])\n",
    "Account.objects.bulk_create([Account(customer_id=1, balance=5)])\n",
    "Account.objects.update_or_create(customer_id=1, defaults={'balance': 5})\n",
    "account.balance = account.balance - 1\naccount.save()\n",
    "account.balance -= 1\n",
    "Customer.objects.update(balance=F('balance'))\n",
    "store.ledger_write_balances({1: 5})\n",
    "from gasworks.billing.store import ledger_insert_entries\n",
    "sql = f'UPDATE {Account._meta.db_table} SET balance = 0'\n",
]


@pytest.mark.parametrize("source", PLANTED_MONEY)
def test_it_catches_money_written_outside_the_ledger(source):
    assert violations("billing/runs.py", source)
    assert violations("billing/ledger.py", source) == []


def test_the_ledger_store_may_write_money_only_in_its_ledger_functions():
    inside = "def ledger_write(rows):\n    LedgerEntry.objects.bulk_create(rows)\n"
    outside = "def insert_bills(rows):\n    LedgerEntry.objects.bulk_create(rows)\n"
    assert violations("billing/store.py", inside) == []
    assert violations("billing/store.py", outside)


def test_reads_and_other_calls_are_not_violations():
    allowed = (
        "from gasworks.billing import runs\n"
        "runs.execute(run)\n"  # a module's function that happens to be called execute
        "LedgerEntry.objects.filter(kind='charge').count()\n"
        "Account.objects.filter(pk=1).values_list('balance', flat=True)\n"
        "Account.objects.filter(pk=1).update(low_balance_since=None)\n"
        "x = {'vendor': 1}\n"
        "note = 'connection.vendor and cursor() in a string are text'\n"
    )
    assert violations("billing/prepaid.py", allowed) == []
