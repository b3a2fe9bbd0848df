"""Demo safety data for `seed_demo`: checklist v1, areas, crews, inspections, hazards,
emergencies. Idempotent: each part is skipped when its data is already there."""

import datetime
import random

from django.contrib.auth import get_user_model
from django.utils import timezone


def seed(stdout) -> None:
    from gasworks.customers.fakes import DISTRICTS
    from gasworks.customers.models import Customer
    from gasworks.safety.models import Crew, Emergency, Hazard, InspectionTask, InspectorArea, ItemResultValue
    from gasworks.safety.services import checklists, emergencies, hazards, inspections

    User = get_user_model()
    template = checklists.ensure_standard()
    inspector = User.objects.filter(role="inspector", is_active=True).order_by("pk").first()
    dispatcher = User.objects.filter(role="dispatcher").order_by("pk").first()
    if inspector:
        for district in DISTRICTS:
            InspectorArea.objects.get_or_create(district=district, defaults={"inspector": inspector})
    for name, phone in (("抢修一队", "010-96777-1"), ("抢修二队", "010-96777-2")):
        Crew.objects.get_or_create(name=name, defaults={"phone": phone})
    rng = random.Random(7)
    customers = list(Customer.objects.filter(status="active").order_by("pk")[:40])
    if inspector and customers and not InspectionTask.objects.exists():
        items = list(template.items.all())
        now = timezone.now()
        for index, customer in enumerate(customers[:24]):
            task = inspections.create_task(customer, timezone.localdate(now), inspector=inspector)
            fail = {items[index % len(items)].code} if index % 5 == 0 else set()
            results = [
                inspections.ResultInput(
                    item.code,
                    ItemResultValue.FAIL if item.code in fail else ItemResultValue.PASS,
                    "现场发现问题，已告知用户" if item.code in fail else "",
                )
                for item in items
            ]
            inspections.complete(
                task, results, by=inspector, confirmed_by_name=customer.name, customer_confirmed=True
            )
            # Spread the demo visits over the last two years so the planner has work to do.
            back = now - datetime.timedelta(days=rng.randint(330, 740))
            InspectionTask.objects.filter(pk=task.pk).update(
                finished_at=back, started_at=back, due_on=back.date()
            )
        stdout.write("Safety: 24 completed inspections.")
    if customers and not Hazard.objects.filter(task__isnull=True).exists():
        demo_login = User.objects.filter(username="customer").select_related("customer").first()
        targets = [
            (customers[30], "major", "灶前软管老化开裂，闻到燃气味，已关闭表前阀"),
            (customers[31], "key", "热水器烟道未接出室外"),
            (
                demo_login.customer if demo_login and demo_login.customer else customers[32],
                "ordinary",
                "未安装燃气报警器",
            ),
        ]
        for customer, level, text in targets:
            hazards.raise_hazard(customer, level, text, by=inspector)
        stdout.write("Safety: 3 open hazards (one major).")
    if customers and not Emergency.objects.exists():
        done = emergencies.report(
            address=customers[5].premises.address,
            description="楼道内有燃气味",
            priority="high",
            by=dispatcher,
            customer=customers[5],
        )
        crew = Crew.objects.order_by("pk").first()
        emergencies.dispatch(done, crew, by=dispatcher)
        emergencies.arrive(done, by=dispatcher)
        emergencies.resolve(done, "立管接头松动，已紧固并检漏合格", by=dispatcher)
        start = timezone.now() - datetime.timedelta(hours=3)
        Emergency.objects.filter(pk=done.pk).update(
            reported_at=start,
            dispatched_at=start + datetime.timedelta(minutes=4),
            arrived_at=start + datetime.timedelta(minutes=23),
            resolved_at=start + datetime.timedelta(minutes=70),
        )
        emergencies.report(
            address="北京市朝阳区望京街道8号院3号楼底商",
            description="餐馆后厨燃气报警器报警",
            priority="critical",
            by=dispatcher,
            contact_phone="13800000000",
        )
        stdout.write("Safety: 2 emergencies (one open).")
    planned = inspections.plan_due()
    stdout.write(f"Safety: planned {planned.created} inspection tasks.")
