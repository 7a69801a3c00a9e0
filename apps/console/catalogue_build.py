"""Build the console's API catalogue from the platforms' official SDK sources (`manage.py
build_catalogue`). Reads the installed SDKs' source files without importing them: lark-oapi
(Feishu / Lark), alibabacloud-dingtalk (DingTalk's new API) and wechatpy (WeChat Official
Account, WeCom). Output is sorted and deterministic, so a rebuild from the same SDK versions
writes the same files (a test checks it).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

SDKS = {
    "feishu": "lark_oapi",
    "dingtalk": "alibabacloud_dingtalk",
    "wechat": "wechatpy",
    "wecom": "wechatpy",
}


def sdk_root(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    return Path(spec.origin).parent if spec and spec.origin else None


def sdk_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    names = {"lark_oapi": "lark-oapi", "alibabacloud_dingtalk": "alibabacloud-dingtalk"}
    try:
        return version(names.get(package, package))
    except PackageNotFoundError:
        return ""


def words(camel: str) -> str:
    """'CreateMessageRequest' -> 'Create message request'."""
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", camel)
    text = " ".join(p if p.isupper() and len(p) > 1 else p.lower() for p in parts)
    return text[:1].upper() + text[1:]


def _type_name(node: ast.AST | None) -> str:
    if node is None:
        return "string"
    text = ast.unparse(node)
    for optional in ("Optional[", "Union["):
        if text.startswith(optional):
            text = text[len(optional) : -1].split(",")[0].strip()
    if text.startswith(("List[", "list[", "Set[")):
        return "array"
    if text.startswith(("Dict[", "dict[")):
        return "object"
    return {
        "str": "string",
        "int": "integer",
        "float": "number",
        "bool": "boolean",
        "IO[Any]": "file",
        "Any": "any",
    }.get(text, "object")


def skeleton(kind: str):
    return {
        "string": "",
        "integer": 0,
        "number": 0,
        "boolean": False,
        "array": [],
        "file": "",
        "any": None,
    }.get(kind, {})


def _param(name: str, kind: str, required: bool) -> dict:
    return {"name": name, "type": kind, "required": required}


# -- Feishu / Lark: lark-oapi --------------------------------------------------------------
def feishu(root: Path) -> Iterator[dict]:
    for request_file in sorted((root / "api").glob("*/*/model/*_request.py")):
        entry = _lark_request(request_file)
        if entry:
            yield entry


def _lark_types(model_dir: Path, class_file: str, depth: int = 0) -> tuple[dict, bool]:
    """A body skeleton from a lark model's `_types`, and whether it carries a file."""
    path = model_dir / f"{class_file}.py"
    if not path.exists():
        return {}, False
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "_types" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            out, has_file = {}, False
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                name, text = ast.literal_eval(key), ast.unparse(value)
                kind = _type_name(value)
                if text.startswith("IO"):
                    kind, has_file = "file", True
                if kind == "object" and depth < 2 and re.fullmatch(r"[A-Z]\w*", text):
                    nested = re.sub(r"(?<!^)([A-Z])", r"_\1", text).lower()
                    out[name], _ = _lark_types(model_dir, nested, depth + 1)
                else:
                    out[name] = skeleton(kind)
            return out, has_file
    return {}, False


def _lark_request(path: Path) -> dict | None:
    text = path.read_text(encoding="utf-8")
    method = re.search(r"\.http_method = \(?\s*HttpMethod\.(\w+)", text)
    uri = re.search(r'\.uri = "([^"]+)"', text)
    if not method or not uri:
        return None
    service, version = path.parts[-4], path.parts[-3]
    stem = path.stem[: -len("_request")]
    token_types = sorted(t.lower() for t in re.findall(r"AccessTokenType\.(\w+)", text))
    annotations = dict(re.findall(r"self\.(\w+): Optional\[([\w\[\], ]+)\]", text))
    kinds = {
        name: _type_name(ast.parse(value, mode="eval").body) for name, value in annotations.items()
    }
    path_params = [_param(name, "string", True) for name in re.findall(r":(\w+)", uri[1])]
    query = [
        _param(name, kinds.get(attr, "string"), False)
        for attr, name in re.findall(
            r"def (\w+)\(self, \w+: [^)]*\)[^:]*:\s*\n\s*self\._\w+\.\w+ = \w+\s*\n"
            r"\s*self\._\w+\.add_query\(\"(\w+)\"",
            text,
        )
    ]
    body, body_type = None, "none"
    if "request_body" in annotations:
        body, has_file = _lark_types(path.parent, f"{stem}_request_body")
        body_type = "multipart" if has_file else "json"
    resource = uri[1].split("/")[3] if uri[1].count("/") > 3 else service
    return {
        "id": f"{service}.{version}.{stem}",
        "method": method[1],
        "path": re.sub(r":(\w+)", r"{\1}", uri[1]),
        "title_en": words("".join(p.title() for p in stem.split("_"))),
        "title_zh": "",
        "resource": f"{service} {resource}",
        "path_params": path_params,
        "query": query,
        "body": body,
        "body_type": body_type,
        "token_types": token_types,
        "docs": "",
    }


# -- DingTalk: alibabacloud-dingtalk ---------------------------------------------------------
def dingtalk(root: Path) -> Iterator[dict]:
    for client in sorted(root.glob("*/client.py")):
        models_path = client.parent / "models.py"
        source = models_path.read_text(encoding="utf-8") if models_path.exists() else ""
        models_tree = ast.parse(source)
        models = _dingtalk_models(models_tree, source.splitlines())
        replies = _dingtalk_replies(models_tree)
        tree = ast.parse(client.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.endswith("_with_options"):
                entry = _dingtalk_operation(node, models, client.parent.name)
                if entry:
                    reply = replies.get(ast.unparse(node.returns).split(".")[-1])
                    yield {**entry, "response": reply} if reply else entry


def _tea_fields(cls: ast.ClassDef) -> list[tuple[str, str]]:
    """(name on the wire, annotation) of a TeaModel's attributes: the annotations from its
    __init__, the wire names from its to_map (`if self.x is not None: result['x'] = …`)."""
    methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
    if "__init__" not in methods or "to_map" not in methods:
        return []
    kinds = {
        a.arg: ast.unparse(a.annotation) for a in methods["__init__"].args.args[1:] if a.annotation
    }
    fields = []
    for statement in methods["to_map"].body:
        test = getattr(statement, "test", None)
        if not (isinstance(statement, ast.If) and isinstance(test, ast.Compare)):
            continue
        attr = getattr(test.left, "attr", None)
        wire = next(
            (
                n.slice.value
                for n in ast.walk(statement)
                if isinstance(n, ast.Subscript)
                and getattr(n.value, "id", None) == "result"
                and isinstance(n.slice, ast.Constant)
            ),
            None,
        )
        if attr and wire:
            fields.append((wire, kinds.get(attr, "str")))
    return fields


_TEA_SCALARS = {"str": "", "int": 0, "float": 0, "bool": False, "bytes": ""}


def _tea_sample(kind: str, models: dict[str, list], depth: int = 0):
    """A value of the annotated type as a generated reply holds it: a model with every field,
    lists of one element, "" / 0 / false (the same rule as the Node SDK's samples)."""
    if depth > 6:
        return None
    if kind.startswith(("List[", "list[")):
        return [_tea_sample(kind[5:-1].strip(), models, depth + 1)]
    if kind.startswith(("Dict", "dict")):
        return {}
    if kind in models:
        return {wire: _tea_sample(sub, models, depth + 1) for wire, sub in models[kind]}
    return _TEA_SCALARS.get(kind)


def _dingtalk_replies(tree: ast.Module) -> dict[str, dict]:
    """Response model (what an operation returns) -> a sample of its JSON body, for the
    responses whose body is an object."""
    models = {c.name: _tea_fields(c) for c in tree.body if isinstance(c, ast.ClassDef)}
    replies = {}
    for name, fields in models.items():
        body = dict(fields).get("body") if name.endswith("Response") else None
        sample = _tea_sample(body, models) if body else None
        if isinstance(sample, dict) and sample:
            replies[name] = sample
    return replies


def _dingtalk_models(tree: ast.Module, lines: list[str]) -> dict[str, dict[str, dict]]:
    """Request model -> attribute -> {type, required}, from each model's __init__."""
    out: dict[str, dict[str, dict]] = {}
    for cls in tree.body:
        if not (isinstance(cls, ast.ClassDef) and cls.name.endswith("Request")):
            continue
        init = next(
            (f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None
        )
        if init is None:
            continue
        kinds = {a.arg: _type_name(a.annotation) for a in init.args.args[1:]}
        attributes = {}
        for statement in init.body:
            if isinstance(statement, ast.Assign) and isinstance(
                statement.targets[0], ast.Attribute
            ):
                name = statement.targets[0].attr
                above = []
                for line in reversed(lines[: statement.lineno - 1]):
                    if not line.strip().startswith("#"):
                        break
                    above.append(line)
                attributes[name] = {
                    "type": kinds.get(name, "string"),
                    "required": any("This parameter is required" in line for line in above),
                }
        out[cls.name] = attributes
    return out


def _dingtalk_path(pathname: ast.expr) -> str:
    """The operation's path, its f-string parts as `{name}` placeholders."""
    if not isinstance(pathname, ast.JoinedStr):
        return ast.literal_eval(pathname)
    return "".join(
        v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
        for v in pathname.values
    )


def _dingtalk_params(node: ast.FunctionDef, models: dict) -> tuple[list[dict], dict]:
    """The query parameters and body skeleton an operation fills from its request model."""
    request_model = next(
        (
            ast.unparse(a.annotation).split(".")[-1]
            for a in node.args.args
            if a.arg == "request" and a.annotation is not None
        ),
        "",
    )
    attributes = models.get(request_model, {})
    query, body = [], {}
    for statement in ast.walk(node):
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Subscript):
            target = statement.targets[0]
            holder = ast.unparse(target.value)
            if holder not in ("query", "body") or not isinstance(target.slice, ast.Constant):
                continue
            attr = ast.unparse(statement.value).split(".")[-1]
            info = attributes.get(attr, {"type": "string", "required": False})
            if holder == "query":
                query.append(_param(target.slice.value, info["type"], info["required"]))
            else:
                body[target.slice.value] = skeleton(info["type"])
    return query, body


def _dingtalk_operation(node: ast.FunctionDef, models: dict, module: str) -> dict | None:
    params = next(
        (
            c
            for c in ast.walk(node)
            if isinstance(c, ast.Call) and ast.unparse(c.func).endswith("Params")
        ),
        None,
    )
    if params is None:
        return None
    fields = {k.arg: k.value for k in params.keywords}
    if "pathname" not in fields or "method" not in fields:
        return None
    action = ast.literal_eval(fields["action"]) if "action" in fields else node.name
    path = _dingtalk_path(fields["pathname"])
    query, body = _dingtalk_params(node, models)
    doc = ast.get_docstring(node) or ""
    summary = re.search(r"@summary\s+(.+)", doc)
    service = module.rsplit("_", 2)[0]
    return {
        "id": f"{module}.{action}",
        "method": ast.literal_eval(fields["method"]),
        "path": path,
        "title_zh": summary[1].strip() if summary else "",
        "title_en": words(action),
        "resource": service.replace("_", " "),
        "path_params": [_param(name, "string", True) for name in re.findall(r"{(\w+)}", path)],
        "query": sorted(query, key=lambda q: (not q["required"], q["name"])),
        "body": body or None,
        "body_type": "json" if body else "none",
        "token_types": ["access_token"],
        "docs": "",
        "family": "new",
    }


# -- DingTalk's classic API (oapi.dingtalk.com): DingTalk's TOP SDK for Python ---------------
# DingTalk publishes its classic-API SDK (generated by its `auto_sdk`, one request class an
# API: name, HTTP method, parameters) as a download on its docs site, not on a registry; PyPI
# carries it unchanged in ding-talk-wb 1.0.1, which `make catalogue` fetches, pinned here.
DINGTALK_TOP = "ding-talk-wb==1.0.1"
DINGTALK_TOP_FILE = "ding_talk_wb-1.0.1-py2-none-any.whl"
DINGTALK_TOP_SOURCE = "DingTalk TOP SDK (ding-talk-wb 1.0.1)"
DINGTALK_TOP_SHA256 = "12296361d2da0ccc601cefcb3cb336e359b5de4571473bb10130af67904dedff"
DINGTALK_EXPLORER = "https://open-dev.dingtalk.com/apiExplorer#/?devType=org&api="
# An API `dingtalk.oapi.a.b` is served at /topapi/a/b, but for the first-generation ones
# served at /a/b: every GET (the /topapi gateway takes POST only) and these POSTs.
DINGTALK_ROOT_POSTS = frozenset(
    # called at the root by dingtalk-sdk 1.3.8 (PyPI), a client of the first-generation API
    ["attendance.list", "attendance.listRecord", "call_back.register_call_back"]
    + ["call_back.update_call_back", "chat.create", "chat.send", "chat.update"]
    + ["cspace.add_to_single_chat", "department.create", "department.update"]
    + ["file.upload.chunk", "file.upload.single", "media.upload", "message.send_to_conversation"]
    + ["microapp.create", "microapp.delete", "microapp.list", "microapp.set_visible_scopes"]
    + ["microapp.update", "microapp.visible_scopes", "user.create", "user.update"]
    + ["service.activate_suite", "service.get_agent", "service.get_auth_info"]
    + ["service.get_corp_token", "service.get_permanent_code", "service.get_suite_token"]
    + ["service.get_unactive_corp", "service.reauth_corp", "service.set_corp_ipwhitelist"]
    # the docs' request lines ("POST https://oapi.dingtalk.com/role/add_role",
    # address-book-add-role) and the clients quoting them
    + ["role.add_role", "role.update_role", "sns.get_persistent_code", "sns.get_sns_token"]
    + ["sns.getuserinfo_bycode", "sns.send_msg", "microapp.rule.get_rule_list"]
    + ["microapp.rule.get_user_total", "microapp.rule.delete"]
)
# The group robot's webhook takes the robot's own key, not an app token: an alert channel.
DINGTALK_NOT_APP_CALLS = frozenset({"robot.send"})


def dingtalk_classic(wheel: Path) -> Iterator[dict]:
    """DingTalk's classic API from its TOP SDK's request classes (a pinned wheel)."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != DINGTALK_TOP_SHA256:
        raise ValueError(f"{wheel} is not {DINGTALK_TOP} as pinned (sha256 {digest})")
    with zipfile.ZipFile(wheel) as archive:
        for member in sorted(archive.namelist()):
            if member.startswith("dingtalk/api/rest/Oapi") and member.endswith(".py"):
                text = archive.read(member).decode("utf-8").replace("\r\n", "\n")
                entry = _dingtalk_top_request(text)
                if entry:
                    yield entry


def _dingtalk_top_request(text: str) -> dict | None:
    name = re.search(r"def getapiname\(self\):\s*return '(dingtalk\.oapi\.[\w.]+)'", text)
    method = re.search(r"def getHttpMethod\(self\):\s*return '(GET|POST)'", text)
    if not name or not method:
        return None
    api = name[1].removeprefix("dingtalk.oapi.")
    if api in DINGTALK_NOT_APP_CALLS:
        return None
    params = re.findall(r"^\s+self\.(\w+) = None$", text, re.MULTILINE)
    files = re.search(r"def getMultipartParas\(self\):\s*return \[([^\]]*)\]", text)
    uploads = re.findall(r"'(\w+)'", files[1]) if files else []
    segments = api.split(".")
    root = method[1] == "GET" or api in DINGTALK_ROOT_POSTS
    body = {p: "" for p in params} if method[1] == "POST" else None
    return {
        "id": name[1],
        "method": method[1],
        "path": ("/" if root else "/topapi/") + "/".join(segments),
        "title_zh": "",
        "title_en": name[1],
        "resource": " ".join(segments[:-1]),
        "path_params": [],
        "query": [] if body is not None else [_param(p, "", False) for p in params],  # untyped
        "body": body or None,
        "body_type": ("multipart" if uploads else "json") if body else "none",
        "token_types": ["access_token"],
        "docs": DINGTALK_EXPLORER + name[1],
        "family": "old",
        "source": DINGTALK_TOP_SOURCE,
    }


# -- WeChat and WeCom: wechatpy ----------------------------------------------------------------
WECHATPY = {
    "wechat": ("client/api", "https://api.weixin.qq.com/cgi-bin/"),
    "wecom": ("enterprise/client/api", "https://qyapi.weixin.qq.com/cgi-bin/"),
}


def wechatpy(root: Path, platform: str) -> Iterator[dict]:
    folder, base = WECHATPY[platform]
    seen = set()
    for module in sorted((root / folder).glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            cls_base = next(
                (
                    ast.literal_eval(s.value)
                    for s in cls.body
                    if isinstance(s, ast.Assign) and ast.unparse(s.targets[0]) == "API_BASE_URL"
                ),
                base,
            )
            for function in (f for f in cls.body if isinstance(f, ast.FunctionDef)):
                for entry in _wechatpy_calls(function, cls_base, module.stem):
                    key = (entry["method"], entry["path"])
                    if key not in seen:
                        seen.add(key)
                        yield entry


def _wechatpy_calls(function: ast.FunctionDef, base: str, module: str) -> Iterator[dict]:
    return _WechatpyMethod(function, base, module).calls(function.body, conditional=False)


class _WechatpyMethod:
    """One wechatpy client method read as source: each `self._get` / `self._post` it makes,
    with the query and body keys built up in local dicts (a key is required when it is set
    unconditionally from a required argument)."""

    def __init__(self, function: ast.FunctionDef, base: str, module: str) -> None:
        self.function, self.base, self.module = function, base, module
        args = function.args
        self.required = {a.arg for a in args.args[1 : len(args.args) - len(args.defaults)]}
        doc = ast.get_docstring(function) or ""
        lines = [line.strip() for line in doc.splitlines() if line.strip()]
        self.title = next((x for x in lines if not x.startswith((":", "http", "详情"))), "")
        self.docs = next((line for line in lines if line.startswith("http")), "")
        self.assigned: dict[str, list[tuple[str, bool]]] = {}  # local name -> keys (required?)

    def keys_of(self, node, conditional: bool) -> list[tuple[str, bool]]:
        if isinstance(node, ast.Dict):
            return [
                (k.value, not conditional and isinstance(v, ast.Name) and v.id in self.required)
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
        if isinstance(node, ast.Name):
            return self.assigned.get(node.id, [])
        return []

    def _note(self, statement, conditional: bool) -> None:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            return
        target = statement.targets[0]
        if isinstance(target, ast.Name):
            self.assigned[target.id] = self.keys_of(statement.value, conditional)
        elif (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Name)
            and isinstance(target.slice, ast.Constant)
        ):
            self.assigned.setdefault(target.value.id, []).append((target.slice.value, False))

    def calls(self, statements, *, conditional: bool) -> Iterator[dict]:
        for statement in statements:
            self._note(statement, conditional)
            for child in ("body", "orelse", "handlers", "finalbody"):
                nested = getattr(statement, child, None)
                if isinstance(nested, list) and not isinstance(statement, ast.FunctionDef):
                    yield from self.calls(
                        nested,
                        conditional=conditional
                        or child != "body"
                        or isinstance(statement, ast.If | ast.For | ast.While | ast.Try),
                    )
            for call in (n for n in ast.walk(statement) if isinstance(n, ast.Call)):
                entry = self.entry(call)
                if entry:
                    yield entry

    def entry(self, call: ast.Call) -> dict | None:
        name = ast.unparse(call.func)
        if (
            name not in ("self._get", "self._post")
            or not call.args
            or not isinstance(call.args[0], ast.Constant)
            or not isinstance(call.args[0].value, str)
        ):
            return None
        url = call.args[0].value
        kwargs = {k.arg: k.value for k in call.keywords}
        call_base = kwargs.get("api_base_url")
        call_base = call_base.value if isinstance(call_base, ast.Constant) else self.base
        full = url if url.startswith("http") else call_base.rstrip("/") + "/" + url.lstrip("/")
        method = "GET" if name == "self._get" else "POST"
        query = [_param(k, "string", r) for k, r in self.keys_of(kwargs.get("params"), False)]
        data = self.keys_of(kwargs.get("data"), False)
        function = self.function.name
        return {
            "id": f"{self.module}.{function}.{method}.{urlsplit(full).path}",
            "method": method,
            "path": urlsplit(full).path,
            "title_zh": self.title,
            "title_en": words("".join(p.title() for p in function.split("_")))
            + f" ({self.module})",
            "resource": self.module,
            "path_params": [],
            "query": _unique(query),
            "body": {k: "" for k, _ in data} or None,
            "body_type": "json" if method == "POST" else "none",
            "token_types": ["access_token"],
            "docs": self.docs,
        }


def _unique(params: list[dict]) -> list[dict]:
    seen, out = set(), []
    for param in params:
        if param["name"] not in seen:
            seen.add(param["name"])
            out.append(param)
    return out


def build(
    platform: str, *, lark_node_sdk: Path | None = None, dingtalk_top_sdk: Path | None = None
) -> list[dict]:
    """The platform's catalogue from its SDK, sorted by path and method (empty when the SDK
    is not installed); Feishu's completed from the Node.js SDK tarball and DingTalk's with
    the classic API from the TOP SDK wheel, when given."""
    package = SDKS[platform]
    root = sdk_root(package)
    if root is None:
        return []
    entries = {
        "feishu": lambda: feishu(root),
        "dingtalk": lambda: dingtalk(root),
        "wechat": lambda: wechatpy(root, "wechat"),
        "wecom": lambda: wechatpy(root, "wecom"),
    }[platform]()
    entries = list(entries)
    if lark_node_sdk is not None and SDKS[platform] == "lark_oapi":
        entries = with_lark_node(entries, lark_node(lark_node_sdk))
    if dingtalk_top_sdk is not None and SDKS[platform] == "alibabacloud_dingtalk":
        entries += dingtalk_classic(dingtalk_top_sdk)
    unique = {}
    for entry in entries:
        unique.setdefault(entry["id"], entry)
    return sorted(unique.values(), key=lambda e: (e["path"], e["method"], e["id"]))


# -- Feishu / Lark: the Node.js SDK (npm), for Chinese titles, docs and the APIs it adds ----
# lark-oapi carries English names only; the official Node.js SDK's compiled code and type
# declarations carry each API's Chinese title, summary and docs link, and more APIs.
LARK_NODE = "@larksuiteoapi/node-sdk@1.74.0"
LARK_NODE_FILE = "larksuiteoapi-node-sdk-1.74.0.tgz"  # what `npm pack` writes
LARK_NODE_SHA256 = "3f932ae72775962e8ef2625d626b28c0b58ab868257d0b2b9fd5d1db23c0210d"

_JS_API = re.compile(
    r"/\*\*((?:(?!\*/)[\s\S])*?)\*/\s*(\w+): \(payload, options\) => __awaiter\(this, void 0, "
    r"void 0, function\* \(\) \{"
)
_JS_URL = re.compile(
    r"url: fillApiPath\(`\$\{this\.domain\}(/open-apis/[^`]+)`, path\),\s*method: \"(\w+)\""
)
_DOCS = re.compile(r"\{@link (\S+) document \}")
_DTS_API = re.compile(r"\{@link (\S+) document \}(?:(?!\*/)[\s\S])*?\*/\s*(\w+): \(payload\?: \{")
_DTS_REPLY = re.compile(r"\s*,\s*options\?: \w+(?:\$\d+)?\)\s*=>\s*Promise<")


def _comment(text: str) -> tuple[str, list[str]]:
    lines = [line.strip().lstrip("*").strip() for line in text.splitlines()]
    docs = next((m[1] for line in lines if (m := _DOCS.search(line))), "")
    prose = [line for line in lines if line and not line.startswith("{@link")]
    return docs, prose


def _matching(text: str, start: int) -> int:
    """The index just past the bracket closing the one at `start`."""
    pairs = {"{": "}", "[": "]", "(": ")", "<": ">"}
    stack = []
    i = start
    while i < len(text):
        char = text[i]
        if char in pairs:
            stack.append(pairs[char])
        elif stack and char == stack[-1]:
            stack.pop()
            if not stack:
                return i + 1
        elif char == '"':
            i = text.index('"', i + 1)
        i += 1
    return len(text)


def _ts_members(body: str) -> list[tuple[str, bool, str]]:
    """(name, optional, type) of an object type's top-level members ("{ a?: T; ... }")."""
    out, i, inner = [], 0, body.strip()[1:-1]
    while i < len(inner):
        match = re.compile(r"\s*(\"[^\"]+\"|[\w$]+)(\?)?:\s*").match(inner, i)
        if not match:
            break
        j = match.end()
        depth, k = 0, j
        while k < len(inner):
            char = inner[k]
            if char in "{[(<":
                depth += 1
            elif char in "}])>":
                depth -= 1
            elif char == '"':
                k = inner.index('"', k + 1)
            elif char == ";" and depth == 0:
                break
            k += 1
        out.append((match[1].strip('"'), bool(match[2]), inner[j:k].strip()))
        i = k + 1
    return out


def _ts_kind(kind: str) -> str:
    if kind.startswith("{"):
        return "object"
    if kind.endswith("[]") or kind.startswith("Array<"):
        return "array"
    if "ReadStream" in kind or "Buffer" in kind:
        return "file"
    if kind.startswith("number"):
        return "integer"
    if kind.startswith("boolean"):
        return "boolean"
    return "string"


def _ts_skeleton(kind: str, depth: int = 0):
    if _ts_kind(kind) == "object":
        if depth >= 2:
            return {}
        return {name: _ts_skeleton(sub, depth + 1) for name, _, sub in _ts_members(kind)}
    return skeleton(_ts_kind(kind))


_OPTIONAL = re.compile(r"\s*\|\s*(?:undefined|null)\s*$")


def _ts_sample(kind: str, depth: int = 0):
    """A value of the declared type, as a generated reply holds it: objects with every member,
    arrays of one element, "" / 0 / false, an enumeration's first value."""
    kind = kind.strip()
    while _OPTIONAL.search(kind):
        kind = _OPTIONAL.sub("", kind)
    if kind.startswith("(") and _matching(kind, 0) == len(kind):
        kind = kind[1:-1].strip()
    if depth > 6:
        return None
    if kind.endswith("[]"):
        return [_ts_sample(kind[:-2], depth + 1)]
    if kind.startswith("Array<"):
        return [_ts_sample(kind[6:-1], depth + 1)]
    if kind.startswith("{"):
        return {name: _ts_sample(sub, depth + 1) for name, _, sub in _ts_members(kind)}
    literal = re.match(r'"([^"]*)"', kind)
    if literal:
        return literal[1]
    if kind.startswith("number"):
        return 0
    if kind.startswith("boolean"):
        return False
    return ""


def _lark_reply(types: str, payload_end: int) -> dict | None:
    """The declared reply of the API whose payload type ends at `payload_end`."""
    promise = _DTS_REPLY.match(types, payload_end)
    if not promise:
        return None
    start = promise.end() - 1
    body = types[start + 1 : _matching(types, start) - 1].strip()
    sample = _ts_sample(body) if body.startswith("{") else None
    return sample if isinstance(sample, dict) else None


def _lark_entry(api_name: str, docs: str, prose: list[str], payload: str) -> dict:
    """One API as the Node.js SDK describes it: the comment above it (title, docs link, rate
    limit) and its payload's type (query parameters, body, whether a file is uploaded)."""
    members = {n: (o, t) for n, o, t in _ts_members(payload)}
    query = [
        _param(name, _ts_kind(kind), not optional)
        for name, optional, kind in _ts_members(members.get("params", (True, "{}"))[1])
    ]
    data = members.get("data")
    has_file = data is not None and any(
        _ts_kind(kind) == "file" for _, _, kind in _ts_members(data[1])
    )
    explorer = dict(re.findall(r"(apiName|project|resource|version)=([\w.]+)", docs))
    stated = " ".join(prose)
    limits = [
        f"{n}/{unit}"
        for unit, pattern in (("s", r"每秒\s*(\d+)\s*次"), ("min", r"每分钟\s*(\d+)\s*次"))
        for n in re.findall(pattern, stated)[:1]
    ]
    name = f"{explorer.get('apiName', api_name)}_{explorer.get('resource', '')}"
    return {
        "limit": ", ".join(limits),
        "title_zh": prose[0][:200] if prose else "",
        "docs": docs,
        "id": ".".join(
            [explorer.get("project", ""), explorer.get("version", ""), name.replace(".", "_")]
        ),
        "query": query,
        "body": _ts_skeleton(data[1]) if data else None,
        "body_type": "none" if data is None else ("multipart" if has_file else "json"),
        "explorer": explorer,
    }


def lark_node(tarball: Path) -> dict[str, dict]:
    """`METHOD /path` → what the Node.js SDK (an npm tarball) says of each API: Chinese title
    and summary, docs link, and its query parameters and body from the type declarations."""
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != LARK_NODE_SHA256:
        raise ValueError(f"{tarball} is not {LARK_NODE} as pinned (sha256 {digest})")
    with tarfile.open(tarball) as archive:
        code = archive.extractfile("package/lib/index.js").read().decode("utf-8")
        types = archive.extractfile("package/types/index.d.ts").read().decode("utf-8")
    payloads: dict[str, str] = {}
    replies: dict[str, dict | None] = {}
    for match in _DTS_API.finditer(types):
        start = match.end() - 1
        end = _matching(types, start)
        payloads.setdefault(match[1], types[start:end])
        replies.setdefault(match[1], _lark_reply(types, end))
    found: dict[str, dict] = {}
    for match in _JS_API.finditer(code):
        window = code[match.end() : match.end() + 1500]
        url = _JS_URL.search(window)
        following = window.find("__awaiter(")
        if not url or 0 <= following < url.start():
            continue
        docs, prose = _comment(match[1])
        path = re.sub(r":(\w+)", r"{\1}", url[1])
        key = f"{url[2].upper()} {path}"
        if key in found and found[key]["title_zh"]:
            continue
        found[key] = _lark_entry(match[2], docs, prose, payloads.get(docs, "{}"))
        found[key]["response"] = replies.get(docs)
    return found


def with_lark_node(entries: list[dict], node: dict[str, dict]) -> list[dict]:
    """lark-oapi's entries with the Node.js SDK's Chinese titles, docs links, required query
    parameters and declared reply (a sample of its type, which the sandbox answers with for
    an API it does not emulate), plus the APIs only the Node.js SDK describes."""
    seen = set()
    for entry in entries:
        key = f"{entry['method']} {entry['path']}"
        seen.add(key)
        extra = node.get(key)
        if extra:
            entry["title_zh"] = extra["title_zh"]
            entry["docs"] = extra["docs"]
            if extra.get("response"):
                entry["response"] = extra["response"]
            if extra["limit"]:
                entry["limit"] = extra["limit"]
            # The type declarations know which query parameters are required.
            required = {q["name"] for q in extra["query"] if q["required"]}
            for param in entry["query"]:
                param["required"] = param["required"] or param["name"] in required
    for key, extra in node.items():
        if key in seen:
            continue
        method, path = key.split(" ", 1)
        explorer = extra["explorer"]
        name = f"{explorer.get('apiName', '')}_{explorer.get('resource', '')}"
        entries.append(
            {
                "id": extra["id"],
                "method": method,
                "path": path,
                "title_en": words("".join(p.title() for p in re.split(r"[_.]", name) if p)),
                "title_zh": extra["title_zh"],
                "resource": f"{explorer.get('project', '')} {explorer.get('resource', '')}".strip(),
                "path_params": [
                    _param(param, "string", True) for param in re.findall(r"\{(\w+)\}", path)
                ],
                "query": extra["query"],
                "body": extra["body"],
                "body_type": extra["body_type"],
                "token_types": [],
                "docs": extra["docs"],
                **({"limit": extra["limit"]} if extra["limit"] else {}),
                **({"response": extra["response"]} if extra.get("response") else {}),
            }
        )
    return entries
