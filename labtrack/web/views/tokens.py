"""/account/tokens/: the user's personal API tokens. A new token's key is shown once, on
the page that answers the creating POST (never stored, never put in a URL or a message
cookie); revoking is immediate."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from labtrack.accounts.models import TokenScope
from labtrack.accounts.services import MAX_LIFETIME_DAYS, token_create, token_revoke, tokens_for
from labtrack.web.views.common import apply_errors


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'NMR notebook' or 'plate reader script'.")
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.READ, widget=forms.RadioSelect,
                              help_text="A read-only token can fetch data but never upload, review or change anything.")
    expires_in_days = forms.IntegerField(required=False, min_value=1, max_value=MAX_LIFETIME_DAYS, initial=90,
                                         label="Expires after (days)",
                                         help_text="Leave empty for a token that does not expire.")


@never_cache
@login_required
def api_tokens(request):
    new_key, new_token = None, None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new_token, new_key = token_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            form = TokenForm()
    return render(request, "web/api_tokens.html", {
        "form": form, "tokens": list(tokens_for(user=request.user)), "new_key": new_key, "new_token": new_token})


@login_required
@require_POST
def api_token_revoke(request, pk: int):
    try:
        token = token_revoke(user=request.user, token_id=pk)
    except ValidationError:
        messages.error(request, "No such token of yours.")
    else:
        messages.success(request, f"Token “{token.name}” ({token.key_prefix}…) is revoked; scripts using it are refused.")
    return redirect("api_tokens")
