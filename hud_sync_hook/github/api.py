"""A small GitHub REST client for plan comments, with bounded retries on 5xx and rate limits.

Only what the action needs: who am I (REST `GET /user`, else GraphQL `viewer`, which also answers
for GitHub App installation tokens), list/create/update/delete issue comments, commit statuses, a
pull request and the pull requests that contain a commit. The token is sent only to the configured API origin (pagination
links elsewhere are not followed) and never appears in an error message.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import httpx

from hud_sync_hook import __version__
from hud_sync_hook.errors import HudSyncError

BOT_LOGIN = "github-actions[bot]"
RETRY_STATUSES = (500, 502, 503, 504)
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
SECONDARY_LIMIT_WAIT = 60.0


class GitHubError(HudSyncError):
    """GitHub refused a call or could not be reached (after retries)."""

    def __init__(self, message: str, *, status: int | None = None, api_message: str = "", unsure: bool = False) -> None:
        self.status = status
        self.api_message = api_message
        self.unsure = unsure  # a 5xx or a lost connection: the call may have taken effect
        super().__init__(message)

    @property
    def not_permitted(self) -> bool:
        """403 "Resource not accessible by integration": the token lacks a permission."""
        return self.status == 403 and "not accessible" in self.api_message.lower()


@dataclass
class Comment:
    id: int
    body: str
    author: str | None
    created_at: str
    html_url: str | None


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _api_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return " ".join(response.text.split())[:300]
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return " ".join(data["message"].split())[:300]
    return ""


def rate_limit_wait(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds to wait before retrying a rate-limited answer, or None when it is not one.

    403/429 with `retry-after`, or with `x-ratelimit-remaining: 0` (wait until
    `x-ratelimit-reset`), or a 403/429 whose message names a secondary rate limit (wait a minute).
    """
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    if headers.get("x-ratelimit-remaining") == "0":
        try:
            reset = float(headers.get("x-ratelimit-reset", ""))
        except ValueError:
            return SECONDARY_LIMIT_WAIT
        return max(0.0, reset - (time.time() if now is None else now)) + 0.5
    if response.status_code == 429 or "rate limit" in _api_message(response).lower():
        return SECONDARY_LIMIT_WAIT
    return None


class GitHubClient:
    def __init__(
        self,
        api_url: str,
        token: str,
        repository: str,
        *,
        timeout: float = 30.0,
        graphql_url: str | None = None,
        max_attempts: int = 5,
        max_wait_seconds: float = 120.0,
        backoff_base: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
    ) -> None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HudSyncError(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
        loopback = _loopback(parts.hostname)
        if parts.scheme == "http" and not loopback:
            raise HudSyncError(f"refusing to send the GitHub token over plain http:// to {parts.hostname}")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository or ""):
            raise HudSyncError(f"GITHUB_REPOSITORY must look like owner/repo, got {repository!r}")
        self.api_url = api_url.rstrip("/")
        self.graphql_url = (graphql_url or _graphql_url(self.api_url)).rstrip("/")
        self._origin = (parts.scheme, parts.netloc)
        self.repository = repository
        self.max_attempts = max(1, max_attempts)
        self.max_wait_seconds = max_wait_seconds
        self.backoff_base = backoff_base
        self._sleep = sleep
        self._log = log or (lambda message: None)
        self.requests_made = 0
        self._client = httpx.Client(
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"hud-sync-hook/{__version__}",
            },
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=not loopback,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "GitHubClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.api_url}{path}"

    def _same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) == self._origin

    def request(
        self, method: str, path: str, *, json: Any = None, ok: tuple[int, ...] = (), retry_unsure: bool = True
    ) -> httpx.Response:
        """One call, retried on 5xx, transport errors and rate limits within the bounds.

        Answers that are 2xx, or listed in `ok`, are returned; anything else raises GitHubError.
        With `retry_unsure=False` a 5xx or a lost connection is raised at once (`unsure`): the
        caller checks whether the call took effect before trying it again.
        """
        url = self._url(path)
        if not self._same_origin(url):
            raise GitHubError("refusing to send the GitHub token to another host")
        shown = urlsplit(url).path
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self.requests_made += 1
            response: httpx.Response | None = None
            try:
                response = self._client.request(method, url, json=json)
            except httpx.TransportError as err:
                reason = type(err).__name__
                delay = self._backoff(attempt)
                if not retry_unsure:
                    raise GitHubError(f"GitHub API {method} {shown} failed: {reason}", unsure=True) from None
            except httpx.HTTPError as err:
                raise GitHubError(f"GitHub API {method} {shown} failed: {type(err).__name__}") from None
            else:
                status = response.status_code
                if 200 <= status < 300 or status in ok:
                    return response
                limited = rate_limit_wait(response)
                if limited is not None:
                    reason = f"rate limited (HTTP {status})"
                    delay = limited
                elif status in RETRY_STATUSES:
                    reason = f"HTTP {status}"
                    delay = self._backoff(attempt)
                    if not retry_unsure:
                        raise GitHubError(
                            f"GitHub API {method} {shown} answered HTTP {status}", status=status,
                            api_message=_api_message(response), unsure=True,
                        )
                else:
                    message = _api_message(response)
                    raise GitHubError(
                        f"GitHub API {method} {shown} answered HTTP {status}" + (f": {message}" if message else ""),
                        status=status,
                        api_message=message,
                    )
            if attempt >= self.max_attempts or waited + delay > self.max_wait_seconds:
                status = response.status_code if response is not None else None
                message = _api_message(response) if response is not None else ""
                raise GitHubError(
                    f"GitHub API {method} {shown} still failing after {attempt} attempt(s) "
                    f"({reason}{': ' + message if message else ''}); try the run again later",
                    status=status,
                    api_message=message,
                )
            self._log(f"GitHub API {method} {shown}: {reason}; retrying in {delay:.1f}s")
            self._sleep(delay)
            waited += delay

    def _backoff(self, attempt: int) -> float:
        ceiling = min(8.0, self.backoff_base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def _pages(self, path: str) -> Iterator[Any]:
        url: str | None = self._url(path)
        pages = 0
        while url:
            pages += 1
            if pages > 1000:
                raise GitHubError(f"GitHub API {urlsplit(path).path}: more than 1000 pages; giving up")
            response = self.request("GET", url)
            data = response.json()
            if not isinstance(data, list):
                raise GitHubError(f"GitHub API GET {urlsplit(url).path} did not answer with a list")
            yield from data
            match = _LINK_NEXT.search(response.headers.get("link", ""))
            url = match.group(1) if match else None
            if url and not self._same_origin(url):
                raise GitHubError("GitHub API pagination pointed to another host; not following it")

    # -- calls ---------------------------------------------------------------------------------

    def login(self) -> str | None:
        """The token's own login: `GET /user` (personal tokens), else GraphQL `viewer { login }`
        (GitHub App installation tokens, the workflow's token: `<app>[bot]`); None when neither says."""
        response = self.request("GET", "/user", ok=(401, 403, 404))
        if response.status_code == 200:
            data = response.json()
            if isinstance(data, dict) and isinstance(data.get("login"), str) and data["login"]:
                return data["login"]
        response = self.request("POST", self.graphql_url, json={"query": "query { viewer { login } }"}, ok=(401, 403, 404))
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError:
                return None
            login = data.get("data", {}).get("viewer", {}).get("login") if isinstance(data, dict) else None
            if isinstance(login, str) and login:
                return login
        return None

    def list_comments(self, number: int) -> list[Comment]:
        comments = []
        for item in self._pages(f"/repos/{self.repository}/issues/{number}/comments?per_page=100"):
            if isinstance(item, dict):
                comments.append(_comment(item))
        return comments

    def create_comment(self, number: int, body: str, *, retry_unsure: bool = True) -> Comment:
        response = self.request(
            "POST", f"/repos/{self.repository}/issues/{number}/comments", json={"body": body}, retry_unsure=retry_unsure
        )
        return _comment(response.json())

    def update_comment(self, comment_id: int, body: str) -> Comment:
        response = self.request(
            "PATCH", f"/repos/{self.repository}/issues/comments/{comment_id}", json={"body": body}
        )
        return _comment(response.json())

    def delete_comment(self, comment_id: int) -> None:
        self.request("DELETE", f"/repos/{self.repository}/issues/comments/{comment_id}")

    def pull(self, number: int) -> dict[str, Any]:
        data = self.request("GET", f"/repos/{self.repository}/pulls/{int(number)}").json()
        if not isinstance(data, dict):
            raise GitHubError("GitHub API answered with something that is not a pull request")
        return data

    def create_status(self, sha: str, *, state: str, context: str, description: str, target_url: str | None) -> None:
        body: dict[str, Any] = {"state": state, "context": context, "description": description[:140]}
        if target_url:
            body["target_url"] = target_url
        self.request("POST", f"/repos/{self.repository}/statuses/{_sha(sha)}", json=body)

    def list_statuses(self, sha: str) -> list[dict[str, Any]]:
        """The commit's statuses, newest first, with `creator.login`."""
        path = f"/repos/{self.repository}/commits/{_sha(sha)}/statuses?per_page=100"
        return [s for s in self._pages(path) if isinstance(s, dict)]

    def pulls_for_commit(self, sha: str) -> list[dict[str, Any]]:
        if not re.fullmatch(r"[0-9a-fA-F]{7,64}", sha or ""):
            return []
        return [p for p in self._pages(f"/repos/{self.repository}/commits/{sha}/pulls?per_page=100") if isinstance(p, dict)]


def _sha(sha: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{7,64}", sha or ""):
        raise GitHubError(f"not a commit id: {sha!r}")
    return sha


def _graphql_url(api_url: str) -> str:
    """`https://api.github.com/graphql`; on GitHub Enterprise Server `https://HOST/api/graphql`."""
    if api_url.endswith("/api/v3"):
        return api_url[: -len("/v3")] + "/graphql"
    return api_url + "/graphql"


def _comment(item: Any) -> Comment:
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        raise GitHubError("GitHub API answered with something that is not a comment")
    user = item.get("user")
    author = user.get("login") if isinstance(user, dict) else None
    body = item.get("body")
    return Comment(
        id=item["id"],
        body=body if isinstance(body, str) else "",
        author=author if isinstance(author, str) else None,
        created_at=str(item.get("created_at") or ""),
        html_url=item.get("html_url") if isinstance(item.get("html_url"), str) else None,
    )
