"""Hypothesis strategies for valid MLP programs.

A program is drawn as plain data (`Program`: params, secrets, sources, a random
DAG of steps, a gate, a deploy step and a monitor), printed as MLP source and
then put through the formatter. Every drawn program checks clean and lints
without errors, so it can be compiled for every target (Kubeflow with
`approval = "suspend"`). User strings (run text, env literals, str param
defaults, descriptions) are drawn from `hostile_text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from mlplang.formatter import format_text

IMAGE = "python:3.12-slim@sha256:cb4ce0eca1043b8d528dc75e658ef840ebfdc3fa73db28d5172fdbaa2969de8d"
ARTIFACT_KINDS = ["Dataset", "Features", "Model", "Metrics", "Prompt", "Index", "Endpoint"]
FLAVORS = [None, None, "sklearn", "torch", "xgb"]
# Prompt and Index artifacts and Endpoints upstream of the deploy would make it an LLM
# deploy or a second deploy (MLP216/217, MLP201/213): they are produced, never read.
UNREAD = ("Prompt", "Index", "Endpoint")

# ---- hostile strings ------------------------------------------------------------------------

HOSTILE_PIECES = [
    '"', "'", "\\", "\\\\", "\n", "\t", "\r\n", "${{ github.sha }}", "${{ secrets.X }}", "{{ ds }}",
    "{{", "}}", "{% if x %}", "{%", "%}", "$(whoami)", "`id`", "$HOME", "${HOME}", "$$", "\u00e9\u00e8",
    "\u2603", "\U0001F600", "\u202e", "\x01", "\x1b[31m", "\x7f", "#", "--", ";", "&&", "|", ">", "*",
    "\r", "\x0c", "\x0b", "\x85", "\u2028", "\u2029", "\ufeff", " ", "  \n  ", "EOF", "MLP_EOF", "PY", "'\"'", "\\n", "%s", "{", "}", "{\ufdd0", "\ufdd0",
]
PLAIN = st.text(st.characters(codec="utf-8", exclude_characters="\x00$", exclude_categories=("Cs",)),
                max_size=6)


@st.composite
def hostile_text(draw, min_size: int = 1) -> str:
    """Text full of quotes, backslashes, newlines, template syntax of every
    orchestrator, shell metacharacters, unicode and control characters (no NUL).
    `$` only comes from the fixed pieces, so no `${in.X}`-style interpolation
    is ever formed."""
    parts = draw(st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), PLAIN), min_size=min_size, max_size=6))
    text = "".join(parts)
    return text if text.strip() else text + "x"


def quote(text: str) -> str:
    """A `"..."` MLP string literal whose value is `text`."""
    out = []
    for char in text:
        out.append({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char, char))
    return '"' + "".join(out) + '"'


# ---- programs as data ---------------------------------------------------------------------


@dataclass
class Art:
    ref: str  # how a binding names it: `src` or `step.out`
    kind: str
    flavor: str | None

    @property
    def type(self) -> str:
        return f"{self.kind}<{self.flavor}>" if self.flavor else self.kind


@dataclass
class Step:
    name: str
    inputs: list[tuple[str, Art]]
    outputs: list[tuple[str, str]]  # (name, type)
    run_text: str
    env: dict[str, str]  # key -> MLP value text
    description: str | None = None
    when: str | None = None
    resources: str | None = None
    retries: int | None = None
    timeout: str | None = None
    after: list[str] = field(default_factory=list)
    template: str | None = None  # a templated step: the call text


@dataclass
class Program:
    name: str
    description: str
    params: list[tuple[str, str, str]]  # (name, type, default text)
    secrets: list[str]
    sources: list[Art]
    steps: list[Step]
    gate_approval: bool
    on_breach: str
    # (where, text) for every user string placed; where is `run`, `env`,
    # `param:<name>` (a str param's default), `description` (the pipeline's)
    # or `description:<step>`
    user_strings: list[tuple[str, str]]
    edges: set[tuple[str, str]] = field(default_factory=set)  # expected step/gate graph (data + after + gate)

    def source(self) -> str:
        """The program as MLP source, in the formatter's layout."""
        return format_text(self.raw())

    def raw(self) -> str:
        """The program as MLP source, before formatting (one line per item, no indentation)."""
        lines = ['import "std/data" as data', ""]
        lines += [
            "template tpl(data_in: Dataset, label: str = \"x\") {",
            f'  image = "{IMAGE}"',
            '  run = "python t.py --in \\"${in.data_in}\\" --label \\"${param.label}\\" --out \\"${out.result}\\""',
            "  out result: Dataset",
            "  retries = 1",
            "}",
            "",
        ]
        lines += [f"pipeline {self.name} {{", f"description = {quote(self.description)}",
                  'owner = "ml@example.com"', 'risk = "limited"', 'schedule = cron("0 3 * * 1")']
        for name, type_, default in self.params:
            lines.append(f"param {name}: {type_} = {default}")
        for name in self.secrets:
            lines.append(f"secret {name}")
        for art in self.sources:
            lines.append(f'source {art.ref}: {art.type} {{ uri = "s3://example/{art.ref}/", version = "v1" }}')
        for step in self.steps:
            lines.append(_render_step(step))
        approval = ' approval { reviewers = ["example/leads"], timeout = 24h }' if self.gate_approval else ""
        lines.append(f"gate release {{ require evaluate.report.auc >= param.min_auc{approval} }}")
        lines.append(
            "monitor drift {\n watch = deploy.endpoint\n schedule = cron(\"0 * * * *\")\n"
            f' image = "{IMAGE}"\n'
            ' run = "python psi.py --model \\"${in.model}\\" --out \\"${out.report}\\""\n'
            " in model: Model = train.model\n out report: Metrics\n require report.psi < 0.2\n"
            f" on_breach = {self.on_breach}\n}}")
        lines.append("}")
        return "\n".join(lines) + "\n"


def _render_step(step: Step) -> str:
    body = []
    if step.description is not None:
        body.append(f"description = {quote(step.description)}")
    if step.template is None:
        body.append(f'image = "{IMAGE}"')
        body.append(f"run = {quote(step.run_text)}")
        for name, art in step.inputs:
            body.append(f"in {name}: {art.type} = {art.ref}")
        for name, type_ in step.outputs:
            body.append(f"out {name}: {type_}")
    if step.env:
        body.append("env = { " + ", ".join(f"{k} = {v}" for k, v in step.env.items()) + " }")
    if step.when:
        body.append(f"when {step.when}")
    if step.resources:
        body.append(f"resources {{ {step.resources} }}")
    if step.retries is not None:
        body.append(f"retries = {step.retries}")
    if step.timeout:
        body.append(f"timeout = {step.timeout}")
    if step.after:
        body.append("after [" + ", ".join(step.after) + "]")
    head = f"step {step.name} = {step.template}" if step.template else f"step {step.name}"
    if step.template and not body:
        return head
    return head + " {\n" + "\n".join(body) + "\n}"


# ---- the strategy -------------------------------------------------------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)
FLOATS = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def _float_text(value: float) -> str:
    text = repr(float(value))
    return text if "e" not in text and "inf" not in text else "0.5"


@st.composite
def programs(draw, hostile: bool = True) -> Program:
    text = hostile_text() if hostile else st.from_regex(r"[a-z ]{1,12}", fullmatch=True)
    user: list[tuple[str, str]] = []

    def user_text(where: str) -> str:
        value = draw(text)
        user.append((where, value))
        return value

    counter = iter(range(1000))

    def fresh(prefix: str) -> str:
        return f"{prefix}{next(counter)}_{draw(NAMES)}"

    params = [
        ("min_auc", "float", _float_text(draw(st.floats(min_value=0, max_value=1)))),
        ("enabled", "bool", draw(st.sampled_from(["true", "false"]))),
        ("epochs", "int", str(draw(st.integers(-1000, 10**9)))),
        ("note", "str", quote(user_text("param:note"))),
    ]
    for _ in range(draw(st.integers(0, 2))):
        type_ = draw(st.sampled_from(["int", "float", "str", "bool"]))
        param_name = fresh("p")
        default = {"int": lambda: str(draw(st.integers(-5, 5))), "float": lambda: _float_text(draw(FLOATS)),
                   "str": lambda name=param_name: quote(user_text(f"param:{name}")),
                   "bool": lambda: draw(st.sampled_from(["true", "false"]))}[type_]()
        params.append((param_name, type_, default))
    secrets = [fresh("s") for _ in range(draw(st.integers(0, 2)))]

    sources = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["Dataset", "Features", "Prompt", "Index", "Model"]))
        flavor = draw(st.sampled_from(FLAVORS)) if kind == "Model" else None
        sources.append(Art(fresh("src"), kind, flavor))
    sources.append(Art("raw", "Dataset", None))

    available: list[Art] = [a for a in sources if a.kind not in UNREAD]
    steps: list[Step] = []
    edges: set[tuple[str, str]] = set()

    def env_for() -> dict[str, str]:
        env: dict[str, str] = {}
        for index in range(draw(st.integers(0, 3))):
            choice = draw(st.sampled_from(["literal", "param", "secret"]))
            key = f"E{index}_{draw(st.from_regex(r'[A-Z]{1,4}', fullmatch=True))}"
            if choice == "secret" and secrets:
                env[key] = f"secret.{draw(st.sampled_from(secrets))}"
            elif choice == "param":
                env[key] = f"param.{draw(st.sampled_from([p[0] for p in params]))}"
            else:
                env[key] = quote(user_text("env"))
        return env

    def extras(step: Step) -> None:
        if draw(st.booleans()):
            step.description = user_text(f"description:{step.name}")
        if draw(st.integers(0, 3)) == 0:
            step.when = draw(st.sampled_from(["param.enabled", "not param.enabled", "param.epochs > 3",
                                              "param.enabled and param.note != \"x\""]))
        if draw(st.booleans()):
            step.resources = draw(st.sampled_from(["cpu = 2, memory = 4Gi", "cpu = 1", "memory = 512Mi",
                                                   "cpu = 4, memory = 16Gi, gpu = 1"]))
        if draw(st.booleans()):
            step.retries = draw(st.integers(0, 3))
        if draw(st.booleans()):
            step.timeout = draw(st.sampled_from(["10m", "1h", "90s", "1.5h", "2d"]))

    # A random DAG: each step reads 1-3 artifacts produced before it (chains,
    # diamonds, fan-in and fan-out all arise), plus the odd `after`.
    for _ in range(draw(st.integers(0, 5))):
        shape = draw(st.sampled_from(["plain", "plain", "plain", "local", "std"]))
        datasets = [a for a in available if a.kind in ("Dataset", "Features")]
        name = fresh("st")
        if shape == "local" and datasets:
            art = draw(st.sampled_from(datasets))
            label = f", label = {quote(draw(st.from_regex(r'[a-z]{1,5}', fullmatch=True)))}" if draw(st.booleans()) else ""
            step = Step(name, [("data_in", art)], [], "", env_for(), template=f"tpl(data_in = {art.ref}{label})")
            producers = [art.ref.split(".")[0]]
            extras(step)
            available.append(Art(f"{name}.result", "Dataset", None))
        elif shape == "std" and datasets:
            art = draw(st.sampled_from(datasets))
            step = Step(name, [("data", art)], [], "", {}, template=f'data.check_schema(data = {art.ref}, schema = "s.json")')
            producers = [art.ref.split(".")[0]]
            available.append(Art(f"{name}.report", "Metrics", None))
        else:
            chosen = draw(st.lists(st.sampled_from(available), min_size=1, max_size=3, unique_by=lambda a: a.ref))
            inputs = [(f"i{k}", art) for k, art in enumerate(chosen)]
            outputs = []
            for k in range(draw(st.integers(1, 2))):
                kind = draw(st.sampled_from([k for k in ARTIFACT_KINDS if k != "Endpoint"]))
                flavor = draw(st.sampled_from(FLAVORS))
                art = Art(f"{name}.o{k}", kind, flavor)
                outputs.append((f"o{k}", art.type))
                if kind not in UNREAD:
                    available.append(art)
            run = user_text("run") + " " + " ".join(f'"${{in.{n}}}"' for n, _ in inputs) + " " + \
                " ".join(f'"${{out.{n}}}"' for n, _ in outputs) + " \"${param.note}\""
            step = Step(name, inputs, outputs, run, env_for())
            extras(step)
            producers = [a.ref.split(".")[0] for _, a in inputs]
        earlier = [s.name for s in steps]
        if earlier and draw(st.integers(0, 3)) == 0:
            step.after = draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=2, unique=True))
        for producer in [*producers, *step.after]:
            if producer in {s.name for s in steps}:
                edges.add((producer, name))
        steps.append(step)

    flavor = draw(st.sampled_from(["sklearn", "torch", "lightgbm"]))
    train_inputs = draw(st.lists(st.sampled_from(available), min_size=1, max_size=3, unique_by=lambda a: a.ref))
    train = Step("train", [(f"i{k}", a) for k, a in enumerate(train_inputs)],
                 [("model", f"Model<{flavor}>")],
                 user_text("run") + " " + " ".join(f'"${{in.i{k}}}"' for k in range(len(train_inputs)))
                 + ' --model "${out.model}" --epochs "${param.epochs}"', env_for())
    extras(train)
    train.when = None  # the deployed model always exists
    model = Art("train.model", "Model", flavor)
    evaluate = Step("evaluate", [("model", model)], [("report", "Metrics")],
                    user_text("run") + ' "${in.model}" "${out.report}"', env_for())
    deploy = Step("deploy", [("model", model)], [("endpoint", "Endpoint")],
                  user_text("run") + ' "${in.model}" "${out.endpoint}"', env_for(), after=["release"])
    extras(deploy)
    deploy.when = None
    for _, art in train.inputs:
        if "." in art.ref:
            edges.add((art.ref.split(".")[0], "train"))
    edges |= {("train", "evaluate"), ("evaluate", "release"), ("release", "deploy"), ("train", "deploy")}
    steps += [train, evaluate, deploy]

    name = fresh("pl")
    return Program(
        name=name, description=user_text("description"), params=params, secrets=secrets, sources=sources,
        steps=steps, gate_approval=draw(st.booleans()),
        on_breach=draw(st.sampled_from(["retrain", "alert"])), user_strings=user, edges=edges,
    )
