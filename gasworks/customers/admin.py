from django.contrib import admin

from gasworks.customers.models import Customer, Premises, StatusChange


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "event", "reason", "by", "at")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("account_no", "name", "category", "phone", "status")
    list_filter = ("category", "status")
    search_fields = ("account_no", "name", "phone")
    raw_id_fields = ("premises",)
    readonly_fields = ("account_no", "status")
    inlines = [StatusChangeInline]


@admin.register(Premises)
class PremisesAdmin(admin.ModelAdmin):
    list_display = ("address", "district")
    search_fields = ("address",)
