"""``{% load gpc %}``: a block shown only when a category is allowed, and the widget's script tag.

::

    {% load gpc %}
    {% ifconsent "analytics" %}
      <script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXX"></script>
    {% else %}
      <p>Analytics are off.</p>
    {% endifconsent %}
    {% gpc_widget %}

Both read the request from the template context (``django.template.context_processors.request``,
on in ``startproject``'s settings). Without a request the middleware saw (an e-mail rendered
by a command), only ``"essential"`` counts as allowed.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.utils.safestring import SafeString, mark_safe

from ...access import get_consent
from ...core.categories import check_category
from ...core.consent import Consent
from ...widget.assets import widget_script_tag

register = template.Library()


class ConsentNode(template.Node):
    """``{% ifconsent category %}allowed{% else %}refused{% endifconsent %}``."""

    child_nodelists = ("allowed", "refused")

    def __init__(self, category: FilterExpression, allowed: NodeList, refused: NodeList) -> None:
        self.category = category
        self.allowed = allowed
        self.refused = refused

    def render(self, context: template.Context) -> SafeString:
        category = str(self.category.resolve(context))
        try:
            check_category(category)
        except ValueError as exc:  # a typo must not read as "refused"
            raise template.TemplateSyntaxError(str(exc)) from None
        consent = context_consent(context)
        allowed = consent.allows(category) if consent is not None else category == "essential"
        return (self.allowed if allowed else self.refused).render(context)


@register.tag("ifconsent")
def ifconsent(parser: Parser, token: Token) -> ConsentNode:
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(
            f'{bits[0]} takes one category: {{% {bits[0]} "analytics" %}}'
        )
    category = parser.compile_filter(bits[1])
    if isinstance(category.var, str) and not category.filters:  # a literal: check it now
        try:
            check_category(category.var)
        except ValueError as exc:
            raise template.TemplateSyntaxError(str(exc)) from None
    allowed = parser.parse(("else", "endifconsent"))
    refused = NodeList()
    if parser.next_token().contents == "else":
        refused = parser.parse(("endifconsent",))
        parser.delete_first_token()
    return ConsentNode(category, allowed, refused)


@register.simple_tag(takes_context=True)
def gpc_widget(
    context: template.Context, nonce: Any = None, reload: bool = True, link: bool = True
) -> SafeString:
    """The widget's ``<script>`` tag, with the page's CSP nonce.

    The nonce is ``nonce=...`` if given, else ``csp_nonce`` from the context (Django's
    own CSP, 6.0 and later), else ``request.csp_nonce`` (django-csp).
    ``reload=False`` activates newly allowed elements in place instead of reloading;
    ``link=False`` leaves out the floating "Cookie settings" button.
    """
    if nonce is None:
        nonce = context.get("csp_nonce") or getattr(context.get("request"), "csp_nonce", None)
    tag = widget_script_tag(
        settings.GPC_POLICY.endpoint_path,
        nonce=str(nonce) if nonce else None,
        reload=bool(reload),
        link=bool(link),
    )
    return mark_safe(tag)  # every attribute value is escaped by widget_script_tag


def context_consent(context: template.Context) -> Consent | None:
    request = context.get("request")
    if request is None:
        return None
    try:
        return get_consent(request)
    except (LookupError, TypeError):
        return None
