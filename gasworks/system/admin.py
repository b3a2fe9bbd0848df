from django.contrib import admin

from gasworks.system import parameters
from gasworks.system.models import AuditEntry, Parameter


@admin.register(Parameter)
class ParameterAdmin(admin.ModelAdmin):
    list_display = ("key", "value", "updated_at")

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)  # a bulk delete skips Parameter.delete()
        parameters.forget()


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "model", "object_id", "object_repr")
    list_filter = ("action", "model")

    def has_change_permission(self, request, obj=None):
        return False  # the log is append-only

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
