"""Search across batches, samples, measurements, raw files, storage places and protocols."""
from __future__ import annotations

from django.shortcuts import render

from labtrack.insights.search import MAX_QUERY_CHARS, MAX_TERMS, search
from labtrack.web.views.common import page


@page
def search_page(request):
    text = request.GET.get("q", "")
    results = search(user=request.user, text=text)
    return render(request, "web/search.html", {
        "q": text[:MAX_QUERY_CHARS], "results": results, "max_terms": MAX_TERMS, "max_chars": MAX_QUERY_CHARS,
    })
