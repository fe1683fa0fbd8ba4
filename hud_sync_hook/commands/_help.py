"""What `hud-sync-hook COMMAND --help` shows below the options: examples, the API key, exit codes.

Plain strings only, so that `--help` imports nothing more than the command itself does.
"""

from __future__ import annotations

KEY = """\
API key: HUD_API_KEY from the environment, else HUD_API_KEY=... in ./.env (in the working
directory, when git does not track that file), else in ~/.hud/.env. Not needed with
--api-url local. The key is never printed, and never sent over plain http:// except to a
loopback address."""


ARGUMENTS = """\
arguments: [TASKSET] [SOURCE], in the order of `hud sync tasks`. A lone argument that names an
existing path is the SOURCE (the taskset then comes from tasksetId in .hud/config.json);
--taskset and --source are the unambiguous forms. The project's .hud/ is the nearest folder
at or above the source that has .hud/config.json, else the project root (.git, pyproject.toml,
setup.py, setup.cfg)."""


IMPORT_ERRORS = """\
task files that fail to import: each is an error (file:line: message) and nothing is planned or
uploaded, unless it matches --allow-import-errors GLOB (relative to the working directory) or
allowImportErrors in .hud/config.json (relative to the folder that holds .hud/); such a file is
shown as Skipped and the other files' tasks go on."""


def _examples(*pairs: tuple[str, str]) -> str:
    width = max(len(command) for command, _ in pairs if len(command) <= 46) if any(
        len(command) <= 46 for command, _ in pairs
    ) else 0
    lines = []
    for command, what in pairs:
        if len(command) <= width:
            lines.append(f"  {command.ljust(width)}  # {what}")
        else:
            lines += [f"  {command}", f"  {' ' * width}  # {what}"]
    return "examples:\n" + "\n".join(lines)


def _exits(*rows: tuple[int, str]) -> str:
    import textwrap

    lines = ["exit codes:"]
    for code, text in rows:
        lines += textwrap.wrap(text, 92, initial_indent=f"  {code}  ", subsequent_indent="     ")
    return "\n".join(lines)


def _epilog(*parts: str) -> str:
    return "\n\n".join(parts)


USAGE_ERROR = "a usage error (an unknown flag, a taskset that looks like a path)"

# command -> (description, epilog)
HELP: dict[str, tuple[str, str]] = {
    "plan": (
        "Discover and validate the tasks, diff them against the taskset by slug and content, and show what "
        "a sync would create and update. Uploads nothing.",
        _epilog(
            ARGUMENTS,
            IMPORT_ERRORS,
            _examples(
                ("hud-sync-hook plan my-taskset", "the tasks in . against 'my-taskset'"),
                ("hud-sync-hook plan my-taskset tasks/", "the tasks in tasks/"),
                ("hud-sync-hook plan --format json --out plan.json --detailed-exitcode",
                 "the stored taskset; exit 2 on changes"),
            ),
            KEY,
            _exits(
                (0, "success, or nothing to do"),
                (1, "an error: invalid tasks, a task file that fails to import, a task the platform would "
                    "reject, a platform or network error, " + USAGE_ERROR),
                (2, "only with --detailed-exitcode: the plan has changes"),
            ),
        ),
    ),
    "apply": (
        "Show the plan, then upload new and changed tasks in batches (asks first on a terminal; --yes for "
        "scripts). Never deletes a task. A new taskset name is created by the first upload and its id "
        "stored in .hud/config.json.",
        _epilog(
            ARGUMENTS,
            IMPORT_ERRORS,
            _examples(
                ("hud-sync-hook apply my-taskset tasks/", "show the plan, ask, upload"),
                ("hud-sync-hook apply --yes", "in a script: the stored taskset, the tasks in ."),
                ("hud-sync-hook apply my-taskset --dry-run", "show the plan, upload nothing"),
            ),
            KEY,
            _exits(
                (0, "uploaded, or nothing to do"),
                (1, "an error: invalid tasks, a task file that fails to import (nothing is uploaded), a task "
                    "the platform would reject, a rejected or failed upload "
                    "(it says how many tasks landed), a declined confirmation, " + USAGE_ERROR),
                (2, "only with --dry-run --detailed-exitcode: the plan has changes"),
            ),
        ),
    ),
    "validate": (
        "Discover and validate the tasks offline: no API key, no network. Problems are listed as "
        "file:line: message.",
        _epilog(
            _examples(
                ("hud-sync-hook validate", "the tasks in ."),
                ("hud-sync-hook validate tasks/tasks.jsonl", "one file"),
                ("hud-sync-hook validate --format json", "counts, files and problems as JSON"),
            ),
            IMPORT_ERRORS,
            "API key: none is needed.",
            _exits((0, "every task is valid"),
                   (1, "a problem, a task file that fails to import, no tasks found, or a usage error")),
        ),
    ),
    "export": (
        "Download every task of a taskset to a .json, .jsonl or .csv file (for .csv, the columns of "
        "`hud sync tasks --export`).",
        _epilog(
            _examples(
                ("hud-sync-hook export my-taskset --out tasks.jsonl", "one task per line"),
                ("hud-sync-hook export --out tasks.csv", "the taskset stored in .hud/config.json"),
                ("hud-sync-hook export --id UUID --out all.json", "by id"),
            ),
            KEY,
            _exits(
                (0, "exported"),
                (1, "an error: no such taskset, a platform error, a file that cannot be written, a usage error"),
            ),
        ),
    ),
    "link-env": (
        "Link the project to a platform environment, as `hud sync env [name] [directory]` does: store "
        "registryId in the project's .hud/config.json, list the environment's registered scenarios, and "
        'list Environment("...") references that name another environment (offering to rewrite them on '
        "a terminal). An id the platform does not know is refused.",
        _epilog(
            _examples(
                ("hud-sync-hook link-env shop-env", "link the project in . to 'shop-env'"),
                ("hud-sync-hook link-env shop-env envs/shop", "link the project in envs/shop"),
                ("hud-sync-hook link-env", "on a terminal: pick from a numbered list"),
            ),
            KEY,
            _exits(
                (0, "linked (or nothing picked)"),
                (1, "an error: no or several matching environments, a declined switch (or one without a "
                    "terminal and without --yes), a platform error, a usage error"),
            ),
        ),
    ),
    "serve": (
        "Serve a local platform (SQLite) over the HUD HTTP API, to try the tools without a HUD account and "
        "for tests. Listens on 127.0.0.1 unless told otherwise.",
        _epilog(
            _examples(
                ("hud-sync-hook serve --api-key dev-key", "on http://127.0.0.1:8765"),
                ("HUD_API_KEY=dev-key hud-sync-hook plan my-taskset --api-url http://127.0.0.1:8765",
                 "plan against it"),
                ("HUD_API_URL=http://127.0.0.1:8765 HUD_API_KEY=dev-key hud sync tasks my-taskset",
                 "the official CLI against it"),
            ),
            "API key: clients must send one of the --api-key values; without --api-key any request is "
            "accepted.\nserve itself reads no HUD_API_KEY.",
            _exits(
                (0, "stopped (Ctrl-C or SIGTERM)"),
                (1, "an error: the port is taken, the store or the registry file cannot be read, a usage error"),
            ),
        ),
    ),
    "pre-push": (
        "The git pre-push hook: validate the commit being pushed (not your work tree) and show the plan "
        "for it; upload only with --apply-on-branch. git passes the remote and its URL, and one line per "
        "pushed ref on standard input; under pre-commit, its PRE_COMMIT_* variables say the same.",
        _epilog(
            _examples(
                ("hud-sync-hook install-hook -- --source tasks --taskset my-taskset", "install it as git's hook"),
                ("hud-sync-hook pre-push --source tasks --taskset my-taskset", "check HEAD by hand"),
                ("hud-sync-hook pre-push --apply-on-branch main", "also upload when pushing to main"),
            ),
            IMPORT_ERRORS.replace("the working directory", "the repository root"),
            KEY + "\nWithout a key, a taskset or an answer within --timeout, the plan is skipped with one "
            "line\nand the push goes on.",
            _exits(
                (0, "the push goes on (also when the plan is skipped)"),
                (1, "the push is refused: invalid tasks, a task file that fails to import, a rejected upload, "
                    "a usage error"),
            ),
        ),
    ),
    "install-hook": (
        "Install (or remove) a plain git pre-push hook that runs `hud-sync-hook pre-push` with the arguments "
        "after --. A pre-push hook that was there is kept and runs first.",
        _epilog(
            _examples(
                ("hud-sync-hook install-hook -- --source tasks --taskset my-taskset", "install"),
                ("hud-sync-hook install-hook --force -- --source tasks", "set an existing hook aside"),
                ("hud-sync-hook install-hook --uninstall", "remove it, restore the previous hook"),
            ),
            "API key: none is needed to install; the hook reads it as pre-push does.",
            _exits(
                (0, "installed or removed"),
                (1, "an error: not in a git repository, a hooks folder that cannot be written, a usage error"),
            ),
        ),
    ),
    "github": (
        "",
        _epilog(
            _examples(
                ("uses: your-org/hud-sync-hook@v1", "a workflow step (see the README's GitHub Action section)"),
                ("hud-sync-hook github", "what the action's container runs (in GitHub Actions only)"),
            ),
            "API key: the hud-api-key input (INPUT_HUD-API-KEY); without it the run validates offline and\n"
            "says that the plan is unavailable.",
            _exits(
                (0, "success: plan shown, upload done, or nothing to do"),
                (1, "invalid tasks, a failed plan or upload, a changed plan with on-plan-change: fail, changes "
                    "with fail-on-changes: true, or a missing permission"),
            ),
        ),
    ),
}
HELP["sync"] = HELP["apply"]
