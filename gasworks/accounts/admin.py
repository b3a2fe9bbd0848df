from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from gasworks.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "role", "customer", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_superuser")
    search_fields = ("username", "first_name", "last_name", "email", "customer__account_no")
    raw_id_fields = ("customer",)
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), (_("Gasworks"), {"fields": ("role", "phone", "customer")}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, (_("Gasworks"), {"fields": ("role", "customer")}))
