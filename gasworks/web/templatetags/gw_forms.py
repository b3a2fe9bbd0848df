"""{{ field|bootstrap }}: a form field rendered with Bootstrap's class unless its widget has one, so
every form shown through web/form_fields.html is styled, whether or not it uses BootstrapMixin."""

from django import template

from gasworks.web.forms import bootstrap_class

register = template.Library()


@register.filter
def bootstrap(field):
    widget = field.field.widget
    if widget.attrs.get("class") or widget.is_hidden:
        return field
    return field.as_widget(attrs={"class": bootstrap_class(widget)})
