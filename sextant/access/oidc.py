"""OpenID Connect single sign-on: the authorization code flow with PKCE (S256).

`OidcClient.authorization_url` sends the browser to the provider; `OidcClient.finish` checks
what comes back, exchanges the code, verifies the ID token and maps its claims to a role and
tenants. Every failure is a SextantError with an `sso_*` (or `oidc_*` setting) code.
"""

from __future__ import annotations

import base64
import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from sextant.access.roles import Role
from sextant.config import Settings
from sextant.errors import Forbidden, InvalidInput, Problem, Unauthorized

SCOPE = "openid email profile"
HTTP_TIMEOUT_SECONDS = 5.0
PENDING_MAX_SECONDS = 600
CLOCK_LEEWAY_SECONDS = 60
# Only public-key signatures: the keys come from the provider's JWKS, never the client secret.
SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

# Discovery documents and key sets, per issuer, for the life of the process. A token signed
# with a key id the cached set lacks makes one fresh read of the JWKS (key rotation).
_cache_lock = threading.Lock()
_discovery: dict[str, dict[str, Any]] = {}
_key_sets: dict[str, KeySet] = {}


@cache
def _http() -> httpx.Client:
    """One pooled client for the process: building one (its TLS context) costs ~40 ms."""
    return httpx.Client(headers={"Accept": "application/json"})


@dataclass(frozen=True)
class SsoIdentity:
    """Who the provider says signed in; `email` is lower-cased. `tenants` None means every
    tenant (oidc_tenants_claim unset); an empty tuple means none: the claim is configured but
    this user's token lacks it, so they see nothing until the provider sends it."""

    subject: str
    email: str
    name: str
    role: Role
    tenants: tuple[str, ...] | None


def parse_role_map(text: str) -> tuple[dict[str, Role], list[Problem]]:
    """Claim values to roles from 'value=role,value=role', with every problem found.

    >>> parse_role_map("sextant-admins=admin, data=analyst")[0]
    {'sextant-admins': <Role.ADMIN: 'admin'>, 'data': <Role.ANALYST: 'analyst'>}
    >>> [p.message for p in parse_role_map("data")[1]]
    ["oidc_role_map entry 'data' is not value=role"]
    """
    mapping: dict[str, Role] = {}
    problems: list[Problem] = []

    def bad(message: str, hint: str = "write it as 'value=role,value=role'") -> None:
        problems.append(Problem("oidc_role_map_invalid", message, "oidc_role_map", hint))

    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        # The role never holds '=', so split at the last one: a value may contain '='.
        value, sep, role_text = (part.strip() for part in entry.rpartition("="))
        if not sep or not value or not role_text:
            bad(f"oidc_role_map entry {entry!r} is not value=role")
            continue
        try:
            role = Role.parse(role_text, field="oidc_role_map")
        except InvalidInput as exc:
            bad(f"oidc_role_map entry {entry!r}: {exc.message}")
            continue
        if mapping.get(value, role) is not role:
            bad(
                f"oidc_role_map maps {value!r} twice ({mapping[value].value} and {role.value})",
                "keep one entry per value",
            )
            continue
        mapping[value] = role
    return mapping, problems


class OidcClient:
    """A relying party for one provider. Holds no per-sign-in state: that travels in the
    `pending` dict the caller keeps in a signed, short-lived cookie."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        label: str = "single sign-on",
        role_claim: str = "groups",
        role_map: Mapping[str, Role] | None = None,
        default_role: Role | None = None,
        tenants_claim: str | None = None,
        timeout: float = HTTP_TIMEOUT_SECONDS,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.label = label
        self.role_claim = role_claim
        self.role_map = dict(role_map or {})
        self.default_role = default_role
        self.tenants_claim = tenants_claim
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcClient | None:
        """The client the oidc_* settings describe; None when oidc_issuer is unset. Every
        problem with the settings is reported at once (InvalidInput naming each setting)."""
        issuer = (settings.oidc_issuer or "").strip()
        if not issuer:
            return None
        problems: list[Problem] = []
        if not issuer.startswith(("https://", "http://")):
            problems.append(
                Problem(
                    "oidc_setting_invalid",
                    f"oidc_issuer {issuer!r} is not an http(s) URL",
                    "oidc_issuer",
                    "set SEXTANT_OIDC_ISSUER to the provider's issuer URL",
                )
            )
        client_id = (settings.oidc_client_id or "").strip()
        client_secret = settings.oidc_client_secret or ""
        for name, value in (("oidc_client_id", client_id), ("oidc_client_secret", client_secret)):
            if not value:
                problems.append(
                    Problem(
                        "oidc_setting_missing",
                        f"{name} must be set when oidc_issuer is set",
                        name,
                        f"set SEXTANT_{name.upper()} to what the provider gave when Sextant "
                        "was registered as a client",
                    )
                )
        role_map, map_problems = parse_role_map(settings.oidc_role_map)
        problems.extend(map_problems)
        default_role = None
        if (settings.oidc_default_role or "").strip():
            try:
                default_role = Role.parse(settings.oidc_default_role, field="oidc_default_role")
            except InvalidInput as exc:
                problems.append(
                    Problem(
                        "oidc_setting_invalid",
                        f"oidc_default_role: {exc.message}",
                        "oidc_default_role",
                        "set SEXTANT_OIDC_DEFAULT_ROLE to a role, or unset it",
                    )
                )
        elif not role_map and not map_problems:
            problems.append(
                Problem(
                    "oidc_setting_missing",
                    "oidc_role_map is empty and oidc_default_role is unset, so nobody could "
                    "sign in with single sign-on",
                    "oidc_role_map",
                    "map claim values to roles, e.g. SEXTANT_OIDC_ROLE_MAP="
                    "'sextant-admins=admin,data=analyst', or set SEXTANT_OIDC_DEFAULT_ROLE",
                )
            )
        if problems:
            raise InvalidInput.from_problems(problems)
        return cls(
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            label=settings.oidc_label,
            role_claim=settings.oidc_role_claim,
            role_map=role_map,
            default_role=default_role,
            tenants_claim=(settings.oidc_tenants_claim or "").strip() or None,
        )

    def authorization_url(self, redirect_uri: str) -> tuple[str, dict]:
        """Where to send the browser, and the `pending` dict (state, nonce, code_verifier,
        created) to keep until the provider sends it back to `redirect_uri`."""
        metadata = self._metadata()
        pending = {
            "state": generate_token(32),
            "nonce": generate_token(32),
            "code_verifier": generate_token(64),
            "created": int(time.time()),
        }
        url = prepare_grant_uri(
            metadata["authorization_endpoint"],
            self.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=SCOPE,
            state=pending["state"],
            nonce=pending["nonce"],
            code_challenge=create_s256_code_challenge(pending["code_verifier"]),
            code_challenge_method="S256",
        )
        return url, pending

    def finish(self, redirect_uri: str, params: Mapping[str, str], pending: dict) -> SsoIdentity:
        """Check the provider's answer (the callback's query `params`) against `pending`,
        exchange the code and return who signed in, with their role and tenants."""
        self._check_pending(params, pending)
        if params.get("error"):
            detail = params.get("error_description") or params["error"]
            raise Unauthorized(
                "sso_denied",
                f"{self.label} did not sign you in: {detail}",
                hint="try again, or ask an admin whether your account may use Sextant",
            )
        code = params.get("code")
        if not code:
            raise Unauthorized(
                "sso_bad_response",
                f"{self.label} came back without an authorization code",
                hint="start the sign-in again",
            )
        metadata = self._metadata()
        tokens = self._exchange(metadata, code, redirect_uri, pending["code_verifier"])
        claims = self._verify(metadata, tokens, pending["nonce"])
        return self._identity(claims)

    # -- the provider's documents ------------------------------------------------------------

    def _get_json(self, url: str, what: str) -> Any:
        try:
            response = _http().get(url, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise self._unreachable(f"cannot read {what} at {url}: {exc}") from None
        if response.status_code != 200:
            raise self._unreachable(f"{url} answered {response.status_code} for {what}")
        try:
            return response.json()
        except ValueError:
            raise self._provider_invalid(f"{what} at {url} is not JSON") from None

    def _metadata(self) -> dict[str, Any]:
        with _cache_lock:
            cached = _discovery.get(self.issuer)
        if cached is not None:
            return cached
        url = f"{self.issuer}/.well-known/openid-configuration"
        document = self._get_json(url, "the discovery document")
        if not isinstance(document, dict):
            raise self._provider_invalid(f"the discovery document at {url} is not an object")
        missing = [
            key
            for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
            if not isinstance(document.get(key), str)
        ]
        if missing:
            raise self._provider_invalid(
                f"the discovery document at {url} lacks {', '.join(missing)}"
            )
        # OpenID Connect Discovery 4.3: the document's issuer is the configured one (we let a
        # trailing slash differ); ID tokens must then carry the document's exact value.
        if document["issuer"].rstrip("/") != self.issuer:
            raise self._provider_invalid(
                f"the discovery document names issuer {document['issuer']!r}, not {self.issuer!r}"
            )
        with _cache_lock:
            _discovery[self.issuer] = document
        return document

    def _key_set(self, metadata: dict[str, Any], refresh: bool = False) -> KeySet:
        with _cache_lock:
            cached = None if refresh else _key_sets.get(self.issuer)
        if cached is not None:
            return cached
        document = self._get_json(metadata["jwks_uri"], "the signing keys (JWKS)")
        try:
            key_set = KeySet.import_key_set(document)
        except (JoseError, KeyError, TypeError, ValueError) as exc:
            raise self._provider_invalid(
                f"the signing keys at {metadata['jwks_uri']} are unusable: {exc}"
            ) from None
        with _cache_lock:
            _key_sets[self.issuer] = key_set
        return key_set

    # -- the code exchange and the ID token --------------------------------------------------

    def _exchange(
        self, metadata: dict[str, Any], code: str, redirect_uri: str, verifier: str
    ) -> dict[str, Any]:
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=verifier
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods:
            # RFC 6749 2.3.1: id and secret are form-encoded before joining them.
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif "client_secret_post" in methods:
            secret = {"client_id": self.client_id, "client_secret": self.client_secret}
            body += "&" + urlencode(secret)
        else:
            raise self._provider_invalid(
                "the token endpoint accepts neither client_secret_basic nor client_secret_post "
                f"(it lists {', '.join(methods)})"
            )
        url = metadata["token_endpoint"]
        try:
            response = _http().post(url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise self._unreachable(f"cannot reach the token endpoint {url}: {exc}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise self._unreachable(
                f"the token endpoint {url} answered {response.status_code} without JSON"
            )
        if response.status_code != 200 or "error" in answer:
            error = answer.get("error", f"HTTP {response.status_code}")
            detail = answer.get("error_description")
            hint = (
                "check oidc_client_id and oidc_client_secret"
                if error == "invalid_client"
                else "start the sign-in again"
            )
            raise Unauthorized(
                "sso_token_refused",
                f"{self.label} refused the sign-in code: {error}"
                + (f" ({detail})" if detail else ""),
                hint=hint,
            )
        if not isinstance(answer.get("id_token"), str):
            raise Unauthorized(
                "sso_bad_response",
                f"{self.label} returned no ID token",
                hint="allow the 'openid' scope for the Sextant client at the provider",
            )
        return answer

    def _verify(self, metadata: dict[str, Any], tokens: dict[str, Any], nonce: str) -> dict:
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if a in SIGNING_ALGORITHMS]
        if not algorithms:
            raise self._provider_invalid(
                f"ID tokens are signed only with {', '.join(offered)}; Sextant needs a "
                "public-key algorithm such as RS256"
            )
        registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
        try:
            try:
                token = jwt.decode(tokens["id_token"], self._key_set(metadata), registry=registry)
            except InvalidKeyIdError:
                keys = self._key_set(metadata, refresh=True)
                token = jwt.decode(tokens["id_token"], keys, registry=registry)
            claims = CodeIDToken(
                token.claims,
                token.header,
                {
                    "iss": {"essential": True, "value": metadata["issuer"]},
                    "aud": {"essential": True, "value": self.client_id},
                    "sub": {"essential": True},
                },
                {
                    "nonce": nonce,
                    "client_id": self.client_id,
                    "access_token": tokens.get("access_token"),
                },
            )
            claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
        except JoseError as exc:
            raise self._token_error(exc) from None
        return dict(claims)

    def _token_error(self, exc: JoseError) -> Unauthorized:
        hint = "start the sign-in again; if it keeps failing, check the provider's settings"
        if isinstance(exc, BadSignatureError | InvalidKeyIdError | UnsupportedAlgorithmError):
            return Unauthorized(
                "sso_token_signature_invalid",
                f"the ID token from {self.label} is not signed by one of its published keys "
                f"({exc.description or exc.error})",
                hint=hint,
            )
        if isinstance(exc, ExpiredTokenError):
            return Unauthorized(
                "sso_token_expired",
                f"the ID token from {self.label} has expired",
                hint="check that this server's clock is right, then sign in again",
            )
        claim = exc.claim if isinstance(exc, ClaimError) else None
        if claim in ("aud", "azp"):
            return Unauthorized(
                "sso_token_wrong_audience",
                f"the ID token from {self.label} was issued for another client, not "
                f"{self.client_id!r}",
                hint="check oidc_client_id",
            )
        if claim == "iss":
            return Unauthorized(
                "sso_token_wrong_issuer",
                f"the ID token was issued by someone other than {self.issuer!r}",
                hint="check oidc_issuer",
            )
        if claim == "nonce":
            return Unauthorized(
                "sso_nonce_mismatch",
                f"the ID token from {self.label} answers a different sign-in (nonce mismatch)",
                hint="start the sign-in again from this browser",
            )
        return Unauthorized(
            "sso_token_invalid",
            f"the ID token from {self.label} is invalid: {exc.description or exc.error}",
            hint=hint,
        )

    # -- pending state and claims ------------------------------------------------------------

    def _check_pending(self, params: Mapping[str, str], pending: dict) -> None:
        fields = ("state", "nonce", "code_verifier")
        if not isinstance(pending, dict) or not all(
            isinstance(pending.get(k), str) and pending[k] for k in fields
        ):
            raise Unauthorized(
                "sso_state_mismatch",
                "no single sign-on was started from this browser, or it was lost",
                field="state",
                hint="start the sign-in again from the sign-in page",
            )
        created = pending.get("created")
        if not isinstance(created, int | float) or time.time() - created > PENDING_MAX_SECONDS:
            raise Unauthorized(
                "sso_expired",
                f"the sign-in took longer than {PENDING_MAX_SECONDS // 60} minutes",
                hint="start the sign-in again",
            )
        state = params.get("state") or ""
        if not hmac.compare_digest(state.encode(), pending["state"].encode()):
            raise Unauthorized(
                "sso_state_mismatch",
                "the answer from the provider does not belong to the sign-in started in this "
                "browser (state mismatch)",
                field="state",
                hint="start the sign-in again from the sign-in page",
            )

    def _identity(self, claims: dict[str, Any]) -> SsoIdentity:
        email = claims.get("email")
        if not isinstance(email, str) or not email.strip():
            raise Unauthorized(
                "sso_no_email",
                f"{self.label} sent no email address for this account; Sextant names users "
                "by email",
                field="email",
                hint="give the account an email address and allow the 'email' scope for the "
                "Sextant client at the provider",
            )
        email = email.strip().lower()
        if claims.get("email_verified") in (False, "false"):
            raise Unauthorized(
                "sso_email_unverified",
                f"{self.label} has not verified the email address {email}",
                field="email",
                hint="verify the address at the provider, then sign in again",
            )
        values = self._claim_values(claims, self.role_claim, "oidc_role_claim") or []
        matched = [self.role_map[v] for v in values if v in self.role_map]
        role = max(matched, key=lambda r: r.rank) if matched else self.default_role
        if role is None:
            shown = ", ".join(values[:5]) + (f" and {len(values) - 5} more" if values[5:] else "")
            raise Forbidden(
                "sso_no_role",
                f"{email} signed in with {self.label}, but no value of its {self.role_claim!r} "
                f"claim ({shown or 'none'}) maps to a Sextant role; ask an admin to add you "
                "to a group mapped to a Sextant role",
                field="role",
                hint="admins: map the group with oidc_role_map, or set oidc_default_role",
            )
        tenants = None
        if self.tenants_claim:
            # Configured but absent from the token: no tenants, so the user sees nothing.
            found = self._claim_values(claims, self.tenants_claim, "oidc_tenants_claim") or []
            tenants = tuple(dict.fromkeys(found))
        name = claims.get("name") or claims.get("preferred_username") or email
        return SsoIdentity(
            subject=str(claims["sub"]), email=email, name=str(name), role=role, tenants=tenants
        )

    def _claim_values(self, claims: dict[str, Any], name: str, setting: str) -> list[str] | None:
        value = claims.get(name)
        if value is None:
            return None
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in items):
            raise Unauthorized(
                "sso_claim_invalid",
                f"the {name!r} claim from {self.label} is neither a string nor a list of strings",
                hint=f"check which claim {setting} names",
            )
        return [str(v) for v in items]

    def _unreachable(self, message: str) -> Unauthorized:
        return Unauthorized(
            "sso_unreachable",
            f"{self.label} is unavailable: {message}",
            hint="check oidc_issuer and that this server can reach the provider",
        )

    def _provider_invalid(self, message: str) -> Unauthorized:
        return Unauthorized(
            "sso_provider_invalid",
            f"{self.label} is misconfigured: {message}",
            hint="check oidc_issuer, or the provider's client settings",
        )
