import Foundation
import JSON
import LLM

/// The source of the bundled demo cassette, `Sources/LLM/Resources/demo/fastapi-jwt.jsonl`: the
/// scripted model's answers for the source document's example, "create a FastAPI app with JWT auth",
/// written as readable Swift and Python rather than as escaped JSON lines.
///
/// `DemoCassetteScriptTests` checks that the bundled file is exactly `cassetteText`; after changing
/// this file, rewrite the cassette with
///
///     MASTERPLAN_WRITE_DEMO_CASSETTE=1 swift test --filter DemoCassetteScript
///
/// The project is real: `files` is its reference code (Python 3, FastAPI 0.92, pydantic 1.10,
/// PyJWT 2.6, standard-library PBKDF2 password hashing, an in-memory user store) and `tests` its
/// pytest acceptance tests (`fastapi.testclient`), which that code passes in the sandbox with
/// Debian's packages and no network. Four answers are wrong on purpose, to show every mechanism:
/// - `app/auth.py` (task 5) first has a syntax error: validation fails and the atom is retried;
/// - `app/passwords.py` (task 2) first verifies against a fresh salt: valid Python, but the MUST
///   test `test_password_hashing` fails, Gate S fails wave 1 and a repair round fixes it;
/// - `app/tokens.py` (task 4, high complexity) misses an import twice and is right on the third
///   attempt: confidence 0.40 + 0.30·(1 − 2/3) + 0.20·0.5 + 0.10·0.5 = 0.65 < 0.70, so it goes to a
///   (non-blocking) review with AI suggestions, and the plan waits for it at the end.
enum DemoScript {
    static let model = DemoCassette.model
    static let request = DemoCassette.request

    // MARK: - Generation answers

    static let discovery = ##"""
        {"domain": "authentication",
         "bounded_contexts": [
          {"name": "Identity", "description": "Registers users and keeps their credentials.",
           "responsibilities": ["register users with unique usernames", "store passwords only as salted hashes", "check credentials at login"]},
          {"name": "Access", "description": "Issues and checks the JWT access tokens that protect the API.",
           "responsibilities": ["issue signed, expiring access tokens at login", "refuse missing, expired or forged tokens with 401", "resolve the current user of a request"]}],
         "aggregates": [
          {"name": "User", "bounded_context": "Identity", "root_entity": "User", "entities": ["User"],
           "invariants": ["a username is unique, regardless of case", "the plain password is never stored or returned"]}],
         "value_objects": [
          {"name": "Username", "bounded_context": "Identity", "attributes": ["value: 3 to 32 letters, digits, '_', '.' or '-'"]},
          {"name": "PasswordHash", "bounded_context": "Identity", "attributes": ["scheme", "iterations", "salt", "digest"]},
          {"name": "AccessToken", "bounded_context": "Access", "attributes": ["subject", "issued_at", "expires_at", "signature"]}],
         "domain_events": [
          {"name": "UserRegistered", "aggregate": "User", "description": "A new user was stored with a hashed password."},
          {"name": "UserLoggedIn", "aggregate": "User", "description": "A user presented valid credentials and received an access token."}],
         "services": [
          {"name": "PasswordHasher", "bounded_context": "Identity", "description": "Hashes and verifies passwords with PBKDF2-HMAC-SHA256 and a random salt.",
           "operations": ["hash_password", "verify_password"]},
          {"name": "TokenService", "bounded_context": "Access", "description": "Signs and verifies JWT access tokens (HS256) with the configured secret.",
           "operations": ["create_access_token", "decode_access_token"]}],
         "assumptions": ["Users are kept in memory; a database can replace the store later without changing the API.",
                         "Login takes a JSON body {username, password} rather than an OAuth2 form, so python-multipart is not needed.",
                         "Tokens are HS256 access tokens signed with a secret from APP_SECRET_KEY; there are no refresh tokens.",
                         "Only packages Debian 12 ships are used (fastapi, pydantic 1.10, PyJWT, uvicorn); passwords are hashed with the standard library."],
         "clarifications": [
          {"question": "Should tokens be revocable (logout) or refreshable?", "assumed_answer": "No: short-lived access tokens (30 minutes) only."},
          {"question": "Do users log in with an email address or a username?", "assumed_answer": "A username; email verification is out of scope."}],
         "risks": [
          {"description": "A leaked or default signing secret lets anyone forge tokens.", "severity": "high",
           "mitigation": "Read the secret from APP_SECRET_KEY, say that the default is for development only, and pin the accepted algorithms when decoding."},
          {"description": "Weak password hashing makes stolen hashes easy to crack.", "severity": "medium",
           "mitigation": "PBKDF2-HMAC-SHA256 with a random 16-byte salt and 120,000 iterations, compared in constant time."},
          {"description": "The in-memory store loses every user when the service stops.", "severity": "low",
           "mitigation": "Keep storage behind UserStore so that a SQLite store can replace it."}]}
        """##

    static let plan = ##"""
        {"project_name": "fastapi-jwt-auth",
         "summary": "A FastAPI service where users register, log in with a username and password and receive a JWT bearer token that protects /users/me. Passwords are hashed with PBKDF2 from the standard library; users are kept in memory.",
         "tech_stack": {"language": "Python 3", "framework": "FastAPI", "database": null, "test_command": "python -m pytest -q",
                        "other": ["pydantic 1.10", "PyJWT", "uvicorn", "httpx (fastapi.testclient)", "pytest"]},
         "phases": [
          {"number": 1, "kind": "setup", "name": "Foundation", "description": "The package, its dependencies and its settings.",
           "milestones": [
            {"number": 1, "name": "Project skeleton", "description": "An importable app package configured from the environment.",
             "tasks": [
              {"number": 1, "name": "Project skeleton and settings",
               "description": "requirements.txt lists fastapi, pydantic<2, PyJWT, uvicorn, httpx and pytest. app/__init__.py marks the package and defines __version__. app/config.py defines a frozen dataclass Settings(secret_key, algorithm='HS256', access_token_minutes=30), load_settings() reading APP_SECRET_KEY, APP_JWT_ALGORITHM and APP_ACCESS_TOKEN_MINUTES with development defaults, and settings = load_settings().",
               "complexity": "low", "depends_on": [], "files": ["requirements.txt", "app/__init__.py", "app/config.py"],
               "subtasks": [{"number": 1, "name": "Dependency manifest", "description": "requirements.txt with the runtime and test dependencies."},
                            {"number": 2, "name": "Package", "description": "app/__init__.py with a docstring and __version__."},
                            {"number": 3, "name": "Settings", "description": "Settings, load_settings() and the module-level settings in app/config.py."}],
               "acceptance": [{"priority": "should", "criterion": "load_settings() returns the values of APP_SECRET_KEY and APP_ACCESS_TOKEN_MINUTES when they are set, and algorithm 'HS256' and 30 minutes by default"}]}
             ]}]},
          {"number": 2, "kind": "core", "name": "Authentication", "description": "Accounts, tokens and the HTTP API.",
           "milestones": [
            {"number": 1, "name": "Accounts", "description": "Users with safely hashed passwords.",
             "tasks": [
              {"number": 2, "name": "Password hashing",
               "description": "app/passwords.py, standard library only (no passlib or bcrypt): hash_password(password) -> str returns 'pbkdf2_sha256$ITERATIONS$SALT$DIGEST' using hashlib.pbkdf2_hmac('sha256') with a random 16-byte salt (secrets.token_bytes) and 120000 iterations, salt and digest in URL-safe base64; verify_password(password, hashed) -> bool derives the digest again with the stored salt and iterations and compares with hmac.compare_digest; a malformed hash returns False.",
               "complexity": "medium", "depends_on": [], "files": ["app/passwords.py"],
               "subtasks": [{"number": 1, "name": "hash_password", "description": "Salted PBKDF2 hash in the self-describing format."},
                            {"number": 2, "name": "verify_password", "description": "Constant-time check against a stored hash."}],
               "acceptance": [{"priority": "must", "criterion": "verify_password(p, hash_password(p)) is True and verify_password of another password against that hash is False"},
                              {"priority": "must", "criterion": "two hashes of the same password differ, and neither contains the password"},
                              {"priority": "should", "criterion": "verify_password against a malformed hash returns False"}]},
              {"number": 3, "name": "User store and API schemas",
               "description": "app/models.py: pydantic 1.10 models UserCreate (username: 3 to 32 letters, digits, '_', '.' or '-'; password: 8 to 128 characters), LoginRequest(username, password), UserPublic(id, username, created_at) and Token(access_token, token_type='bearer', expires_in in seconds). app/users.py: a frozen dataclass User(id, username, password_hash, created_at), the exception UsernameTaken, and UserStore, an in-memory store guarded by a threading.Lock with create(username, password) -> User (hashes with hash_password, ids from 1, usernames unique regardless of case, raises UsernameTaken), get(username) -> Optional[User] and authenticate(username, password) -> Optional[User] (verify_password).",
               "complexity": "medium", "depends_on": [2], "files": ["app/models.py", "app/users.py"],
               "subtasks": [{"number": 1, "name": "Schemas", "description": "The request and response models of the API."},
                            {"number": 2, "name": "UserStore", "description": "create, get and authenticate over an in-memory dictionary."}],
               "acceptance": [{"priority": "must", "criterion": "UserStore.authenticate returns the user for the right password and None for a wrong password or an unknown user; the stored password_hash is not the password"},
                              {"priority": "must", "criterion": "creating a second user with an existing username raises UsernameTaken"}]}
             ]},
            {"number": 2, "name": "Tokens and API", "description": "JWT access tokens and the routes that issue and check them.",
             "tasks": [
              {"number": 4, "name": "JWT access tokens",
               "description": "app/tokens.py with PyJWT: TokenError(Exception); create_access_token(subject, expires_delta: Optional[timedelta] = None) -> str signs the claims sub, type='access', iat and exp (now + expires_delta, by default settings.access_token_minutes) with settings.secret_key and settings.algorithm; decode_access_token(token) -> str verifies the signature with algorithms=[settings.algorithm], requires exp, iat and sub, checks that type is 'access' and returns sub; an expired, forged or malformed token raises TokenError.",
               "complexity": "high", "depends_on": [1], "files": ["app/tokens.py"],
               "subtasks": [{"number": 1, "name": "create_access_token", "description": "Signed, expiring access token for a subject."},
                            {"number": 2, "name": "decode_access_token", "description": "Verification with a pinned algorithm and required claims."}],
               "acceptance": [{"priority": "must", "criterion": "decode_access_token(create_access_token('alice')) returns 'alice'"},
                              {"priority": "must", "criterion": "an expired token, a token signed with another key and a malformed string each raise TokenError"}]},
              {"number": 5, "name": "Registration, login and the current user",
               "description": "app/auth.py: router = APIRouter(prefix='/auth'); get_user_store(request) returns request.app.state.users; POST /auth/register takes UserCreate and answers 201 with UserPublic (409 'Username already registered' when the name is taken); POST /auth/login takes a JSON LoginRequest and answers Token with a bearer access token (401 with 'WWW-Authenticate: Bearer' for wrong credentials); get_current_user uses HTTPBearer(auto_error=False) and returns the User of a valid token, 401 when the token is missing, invalid, expired or names an unknown user; public(user) -> UserPublic.",
               "complexity": "medium", "depends_on": [3, 4], "files": ["app/auth.py"],
               "subtasks": [{"number": 1, "name": "Register", "description": "POST /auth/register."},
                            {"number": 2, "name": "Login", "description": "POST /auth/login issuing the access token."},
                            {"number": 3, "name": "Current user", "description": "The get_current_user dependency for protected routes."}],
               "acceptance": [{"priority": "must", "criterion": "POST /auth/register with a new username returns 201 with id and username and no password"},
                              {"priority": "must", "criterion": "POST /auth/login with the right password returns 200 with access_token and token_type 'bearer'; a wrong password returns 401"},
                              {"priority": "should", "criterion": "registering an existing username again returns 409"}]},
              {"number": 6, "name": "Application and protected route",
               "description": "app/main.py: create_app() -> FastAPI builds a new app with its own UserStore in app.state.users, includes the auth router, serves GET /health answering {'status': 'ok'} and GET /users/me (response UserPublic) protected by get_current_user; app = create_app() for 'uvicorn app.main:app'.",
               "complexity": "medium", "depends_on": [5], "files": ["app/main.py"],
               "subtasks": [{"number": 1, "name": "create_app", "description": "The application factory with its own user store."},
                            {"number": 2, "name": "Routes", "description": "GET /health and the protected GET /users/me."}],
               "acceptance": [{"priority": "must", "criterion": "GET /users/me with a valid bearer token from /auth/login returns 200 and the user; without a token or with an invalid token it returns 401"},
                              {"priority": "should", "criterion": "GET /health returns 200 and {\"status\": \"ok\"}"}]}
             ]}]},
          {"number": 3, "kind": "polish", "name": "Documentation", "description": "How to install, run, use and test the service.",
           "milestones": [
            {"number": 1, "name": "README", "description": "A newcomer can run the service and call it.",
             "tasks": [
              {"number": 7, "name": "README",
               "description": "README.md: what the service does, how to install the dependencies (Debian packages or pip install -r requirements.txt), how to run it (APP_SECRET_KEY=... uvicorn app.main:app), the settings, curl examples for register, login and /users/me, and how to run the tests (python -m pytest -q).",
               "complexity": "low", "depends_on": [6], "files": ["README.md"], "subtasks": [], "acceptance": []}
             ]}]}
         ]}
        """##

    /// The acceptance tests as the model answers them: `{"tests": [...]}`.
    static var acceptanceTests: String {
        let list = tests.map { test -> JSONValue in
            ["name": .string(test.name), "priority": .string(test.priority), "covers": .array(test.covers.map { JSONValue($0) }),
             "file": .string(test.file), "code": .string(test.code)]
        }
        return JSONValue(["tests": .array(list)]).jsonText
    }

    // MARK: - The project (reference code and acceptance tests)

    static let files: [(task: Int, path: String, content: String)] = [
        (1, "requirements.txt", ##"""
            # Runtime and test dependencies (Debian 12 package in brackets).
            fastapi>=0.92,<0.100   # [python3-fastapi]
            pydantic>=1.10,<2      # [python3-pydantic]
            PyJWT>=2.6             # [python3-jwt]
            uvicorn>=0.17          # [python3-uvicorn] to serve the app
            httpx>=0.23            # [python3-httpx] used by fastapi.testclient
            pytest>=7              # [python3-pytest]

            """##),
        (1, "app/__init__.py", ##"""
            """FastAPI service with user registration and JWT bearer authentication."""

            __version__ = "1.0.0"

            """##),
        (1, "app/config.py", ##"""
            """Settings of the service, read from the environment once at import."""

            import os
            from dataclasses import dataclass

            DEVELOPMENT_SECRET = "development-secret-change-me-0123456789abcdef"


            @dataclass(frozen=True)
            class Settings:
                secret_key: str
                algorithm: str = "HS256"
                access_token_minutes: int = 30


            def load_settings() -> Settings:
                """Read APP_SECRET_KEY, APP_JWT_ALGORITHM and APP_ACCESS_TOKEN_MINUTES, with development defaults."""
                minutes = int(os.environ.get("APP_ACCESS_TOKEN_MINUTES", "30"))
                if minutes <= 0:
                    raise ValueError("APP_ACCESS_TOKEN_MINUTES must be a positive number of minutes")
                return Settings(
                    secret_key=os.environ.get("APP_SECRET_KEY", DEVELOPMENT_SECRET),
                    algorithm=os.environ.get("APP_JWT_ALGORITHM", "HS256"),
                    access_token_minutes=minutes,
                )


            settings = load_settings()

            """##),
        (2, "app/passwords.py", ##"""
            """Password hashing with PBKDF2-HMAC-SHA256 from the standard library.

            A hash is stored as "pbkdf2_sha256$ITERATIONS$SALT$DIGEST" (salt and digest in URL-safe base64),
            so the salt and the work factor travel with it.
            """

            import base64
            import hashlib
            import hmac
            import secrets

            SCHEME = "pbkdf2_sha256"
            ITERATIONS = 120_000
            SALT_BYTES = 16


            def _b64(data: bytes) -> str:
                return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


            def _unb64(text: str) -> bytes:
                return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


            def _derive(password: str, salt: bytes, iterations: int) -> bytes:
                return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)


            def hash_password(password: str) -> str:
                """Hash a password with a fresh random salt."""
                salt = secrets.token_bytes(SALT_BYTES)
                digest = _derive(password, salt, ITERATIONS)
                return f"{SCHEME}${ITERATIONS}${_b64(salt)}${_b64(digest)}"


            def verify_password(password: str, hashed: str) -> bool:
                """Check a password against a stored hash in constant time; a malformed hash never matches."""
                try:
                    scheme, iterations, salt, digest = hashed.split("$")
                    if scheme != SCHEME:
                        return False
                    expected = _unb64(digest)
                    actual = _derive(password, _unb64(salt), int(iterations))
                except (ValueError, TypeError):
                    return False
                return hmac.compare_digest(actual, expected)

            """##),
        (3, "app/models.py", ##"""
            """Request and response bodies of the API (pydantic 1.10)."""

            from datetime import datetime

            from pydantic import BaseModel, Field


            class UserCreate(BaseModel):
                username: str = Field(..., min_length=3, max_length=32, regex=r"^[A-Za-z0-9_.-]+$")
                password: str = Field(..., min_length=8, max_length=128)


            class LoginRequest(BaseModel):
                username: str
                password: str


            class UserPublic(BaseModel):
                id: int
                username: str
                created_at: datetime


            class Token(BaseModel):
                access_token: str
                token_type: str = "bearer"
                expires_in: int

            """##),
        (3, "app/users.py", ##"""
            """An in-memory, thread-safe user store; passwords are kept only as PBKDF2 hashes."""

            import threading
            from dataclasses import dataclass
            from datetime import datetime, timezone
            from typing import Dict, Optional

            from app.passwords import hash_password, verify_password


            class UsernameTaken(Exception):
                """A user with this username already exists."""


            @dataclass(frozen=True)
            class User:
                id: int
                username: str
                password_hash: str
                created_at: datetime


            class UserStore:
                def __init__(self) -> None:
                    self._lock = threading.Lock()
                    self._users: Dict[str, User] = {}
                    self._next_id = 1

                def create(self, username: str, password: str) -> User:
                    """Store a new user; usernames are unique regardless of case."""
                    key = username.lower()
                    password_hash = hash_password(password)
                    with self._lock:
                        if key in self._users:
                            raise UsernameTaken(username)
                        user = User(id=self._next_id, username=username, password_hash=password_hash,
                                    created_at=datetime.now(timezone.utc))
                        self._users[key] = user
                        self._next_id += 1
                        return user

                def get(self, username: str) -> Optional[User]:
                    with self._lock:
                        return self._users.get(username.lower())

                def authenticate(self, username: str, password: str) -> Optional[User]:
                    """The user when the password is right, otherwise None."""
                    user = self.get(username)
                    if user is None or not verify_password(password, user.password_hash):
                        return None
                    return user

            """##),
        (4, "app/tokens.py", ##"""
            """JWT access tokens (HS256 by default), signed and checked with PyJWT."""

            from datetime import datetime, timedelta, timezone
            from typing import Optional

            import jwt

            from app.config import settings


            class TokenError(Exception):
                """The token is missing, malformed, expired or not signed by this service."""


            def create_access_token(subject: str, expires_delta: Optional[timedelta] = None) -> str:
                """A signed token whose "sub" claim is the subject, expiring after expires_delta (default from settings)."""
                now = datetime.now(timezone.utc)
                lifetime = expires_delta if expires_delta is not None else timedelta(minutes=settings.access_token_minutes)
                claims = {"sub": subject, "type": "access", "iat": now, "exp": now + lifetime}
                return jwt.encode(claims, settings.secret_key, algorithm=settings.algorithm)


            def decode_access_token(token: str) -> str:
                """The subject of a valid access token; raises TokenError otherwise."""
                try:
                    claims = jwt.decode(token, settings.secret_key, algorithms=[settings.algorithm],
                                        options={"require": ["exp", "iat", "sub"]})
                except jwt.ExpiredSignatureError as error:
                    raise TokenError("the token has expired") from error
                except jwt.InvalidTokenError as error:
                    raise TokenError("the token is invalid") from error
                if claims.get("type") != "access":
                    raise TokenError("not an access token")
                return str(claims["sub"])

            """##),
        (5, "app/auth.py", ##"""
            """Registration, login and the bearer-token dependency that protects routes."""

            from typing import Optional

            from fastapi import APIRouter, Depends, HTTPException, Request, status
            from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

            from app.config import settings
            from app.models import LoginRequest, Token, UserCreate, UserPublic
            from app.tokens import TokenError, create_access_token, decode_access_token
            from app.users import User, UsernameTaken, UserStore

            bearer_scheme = HTTPBearer(auto_error=False)

            router = APIRouter(prefix="/auth", tags=["auth"])


            def get_user_store(request: Request) -> UserStore:
                """The application's user store (created by create_app)."""
                return request.app.state.users


            def _unauthorized(detail: str) -> HTTPException:
                return HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=detail,
                                     headers={"WWW-Authenticate": "Bearer"})


            def get_current_user(credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer_scheme),
                                 store: UserStore = Depends(get_user_store)) -> User:
                """The user named by a valid "Authorization: Bearer" token; 401 otherwise."""
                if credentials is None:
                    raise _unauthorized("Not authenticated")
                try:
                    username = decode_access_token(credentials.credentials)
                except TokenError:
                    raise _unauthorized("Invalid or expired token")
                user = store.get(username)
                if user is None:
                    raise _unauthorized("Invalid or expired token")
                return user


            def public(user: User) -> UserPublic:
                return UserPublic(id=user.id, username=user.username, created_at=user.created_at)


            @router.post("/register", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
            def register(body: UserCreate, store: UserStore = Depends(get_user_store)) -> UserPublic:
                try:
                    user = store.create(body.username, body.password)
                except UsernameTaken:
                    raise HTTPException(status_code=status.HTTP_409_CONFLICT, detail="Username already registered")
                return public(user)


            @router.post("/login", response_model=Token)
            def login(body: LoginRequest, store: UserStore = Depends(get_user_store)) -> Token:
                user = store.authenticate(body.username, body.password)
                if user is None:
                    raise _unauthorized("Incorrect username or password")
                return Token(access_token=create_access_token(user.username), token_type="bearer",
                             expires_in=settings.access_token_minutes * 60)

            """##),
        (6, "app/main.py", ##"""
            """The FastAPI application: auth routes, a protected /users/me and a health check.

            Run it with: uvicorn app.main:app --reload
            """

            from fastapi import Depends, FastAPI

            from app import __version__
            from app.auth import get_current_user, public, router as auth_router
            from app.models import UserPublic
            from app.users import User, UserStore


            def create_app() -> FastAPI:
                """A new application with its own empty user store."""
                app = FastAPI(title="FastAPI JWT Auth", version=__version__)
                app.state.users = UserStore()
                app.include_router(auth_router)

                @app.get("/health", tags=["meta"])
                def health() -> dict:
                    return {"status": "ok"}

                @app.get("/users/me", response_model=UserPublic, tags=["users"])
                def read_me(user: User = Depends(get_current_user)) -> UserPublic:
                    return public(user)

                return app


            app = create_app()

            """##),
        (7, "README.md", ##"""
            # fastapi-jwt-auth

            A small FastAPI service with user registration and JWT bearer authentication:

            - `POST /auth/register` creates a user (`{"username", "password"}`) and answers 201 with the user;
            - `POST /auth/login` checks the password and answers a signed access token (HS256, 30 minutes);
            - `GET /users/me` answers the user of a valid `Authorization: Bearer <token>` header, 401 otherwise;
            - `GET /health` answers `{"status": "ok"}`.

            Passwords are stored only as salted PBKDF2-HMAC-SHA256 hashes (standard library); users live in
            memory, so they are gone when the service stops.

            ## Install

            On Debian 12: `apt-get install python3-fastapi python3-jwt python3-uvicorn python3-httpx python3-pytest`.
            Elsewhere: `python3 -m pip install -r requirements.txt`.

            ## Run

            ```sh
            export APP_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            uvicorn app.main:app --reload
            ```

            | variable | meaning | default |
            |---|---|---|
            | `APP_SECRET_KEY` | the key that signs tokens; set it in production | a development key |
            | `APP_JWT_ALGORITHM` | the signing algorithm | `HS256` |
            | `APP_ACCESS_TOKEN_MINUTES` | token lifetime in minutes | `30` |

            ## Try it

            ```sh
            curl -s -X POST localhost:8000/auth/register -H 'content-type: application/json' \
                 -d '{"username": "alice", "password": "s3cret-password"}'
            TOKEN=$(curl -s -X POST localhost:8000/auth/login -H 'content-type: application/json' \
                 -d '{"username": "alice", "password": "s3cret-password"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
            curl -s localhost:8000/users/me -H "Authorization: Bearer $TOKEN"
            ```

            The interactive API documentation is at http://localhost:8000/docs.

            ## Test

            ```sh
            python -m pytest -q
            ```

            """##),
    ]

    static let tests: [(name: String, priority: String, covers: [Int], file: String, code: String)] = [
        ("test_settings", "should", [1], "tests/test_config.py", ##"""
            from app.config import load_settings


            def test_settings_come_from_the_environment(monkeypatch):
                monkeypatch.setenv("APP_SECRET_KEY", "a-test-secret-that-is-long-enough")
                monkeypatch.setenv("APP_ACCESS_TOKEN_MINUTES", "5")
                settings = load_settings()
                assert settings.secret_key == "a-test-secret-that-is-long-enough"
                assert settings.access_token_minutes == 5
                assert settings.algorithm == "HS256"


            def test_settings_have_development_defaults(monkeypatch):
                for name in ("APP_SECRET_KEY", "APP_JWT_ALGORITHM", "APP_ACCESS_TOKEN_MINUTES"):
                    monkeypatch.delenv(name, raising=False)
                settings = load_settings()
                assert settings.secret_key
                assert settings.access_token_minutes == 30

            """##),
        ("test_password_hashing", "must", [2], "tests/test_passwords.py", ##"""
            from app.passwords import hash_password, verify_password


            def test_a_password_verifies_against_its_hash():
                hashed = hash_password("correct horse battery")
                assert verify_password("correct horse battery", hashed) is True
                assert verify_password("wrong horse battery", hashed) is False


            def test_hashes_are_salted_and_never_the_plain_password():
                first = hash_password("correct horse battery")
                second = hash_password("correct horse battery")
                assert "correct horse battery" not in first
                assert first != second
                assert verify_password("correct horse battery", second) is True


            def test_a_malformed_hash_never_verifies():
                assert verify_password("anything", "not-a-hash") is False

            """##),
        ("test_user_store", "must", [3], "tests/test_users.py", ##"""
            import pytest

            from app.users import UsernameTaken, UserStore


            def test_a_created_user_authenticates_with_the_right_password_only():
                store = UserStore()
                user = store.create("alice", "s3cret-password")
                assert user.username == "alice"
                assert user.password_hash != "s3cret-password"
                assert store.authenticate("alice", "s3cret-password") == user
                assert store.authenticate("alice", "wrong-password") is None
                assert store.authenticate("bob", "s3cret-password") is None


            def test_a_username_can_be_registered_once():
                store = UserStore()
                store.create("alice", "s3cret-password")
                with pytest.raises(UsernameTaken):
                    store.create("alice", "another-password")

            """##),
        ("test_jwt_tokens", "must", [4], "tests/test_tokens.py", ##"""
            from datetime import timedelta

            import jwt
            import pytest

            from app.config import settings
            from app.tokens import TokenError, create_access_token, decode_access_token


            def test_a_token_carries_its_subject():
                token = create_access_token("alice")
                assert decode_access_token(token) == "alice"


            def test_an_expired_token_is_refused():
                token = create_access_token("alice", expires_delta=timedelta(seconds=-5))
                with pytest.raises(TokenError):
                    decode_access_token(token)


            def test_a_token_signed_with_another_key_is_refused():
                forged = jwt.encode({"sub": "alice", "type": "access", "iat": 1700000000, "exp": 4102444800},
                                    "not-the-service-secret-0123456789", algorithm=settings.algorithm)
                with pytest.raises(TokenError):
                    decode_access_token(forged)


            def test_garbage_is_refused():
                with pytest.raises(TokenError):
                    decode_access_token("not.a.token")

            """##),
        ("test_register_and_login", "must", [5, 6], "tests/test_auth_api.py", ##"""
            from fastapi.testclient import TestClient

            from app.main import create_app


            def test_register_returns_201_and_the_user_without_the_password():
                client = TestClient(create_app())
                response = client.post("/auth/register", json={"username": "alice", "password": "s3cret-password"})
                assert response.status_code == 201, response.text
                body = response.json()
                assert body["username"] == "alice"
                assert isinstance(body["id"], int)
                assert "password" not in response.text


            def test_login_returns_a_bearer_token_and_refuses_a_wrong_password():
                client = TestClient(create_app())
                client.post("/auth/register", json={"username": "alice", "password": "s3cret-password"})
                response = client.post("/auth/login", json={"username": "alice", "password": "s3cret-password"})
                assert response.status_code == 200, response.text
                body = response.json()
                assert body["token_type"] == "bearer"
                assert body["access_token"].count(".") == 2
                wrong = client.post("/auth/login", json={"username": "alice", "password": "not-her-password"})
                assert wrong.status_code == 401

            """##),
        ("test_protected_route", "must", [5, 6], "tests/test_protected_route.py", ##"""
            from fastapi.testclient import TestClient

            from app.main import create_app


            def login(client):
                client.post("/auth/register", json={"username": "alice", "password": "s3cret-password"})
                response = client.post("/auth/login", json={"username": "alice", "password": "s3cret-password"})
                return response.json()["access_token"]


            def test_users_me_returns_the_user_of_a_valid_token():
                client = TestClient(create_app())
                token = login(client)
                response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 200, response.text
                assert response.json()["username"] == "alice"


            def test_users_me_refuses_a_missing_or_invalid_token():
                client = TestClient(create_app())
                login(client)
                assert client.get("/users/me").status_code == 401
                invalid = client.get("/users/me", headers={"Authorization": "Bearer not.a.token"})
                assert invalid.status_code == 401

            """##),
        ("test_duplicate_registration_and_health", "should", [5, 6], "tests/test_api_extras.py", ##"""
            from fastapi.testclient import TestClient

            from app.main import create_app


            def test_registering_an_existing_username_returns_409():
                client = TestClient(create_app())
                first = client.post("/auth/register", json={"username": "alice", "password": "s3cret-password"})
                assert first.status_code == 201
                again = client.post("/auth/register", json={"username": "alice", "password": "other-password"})
                assert again.status_code == 409


            def test_health_answers_ok():
                client = TestClient(create_app())
                response = client.get("/health")
                assert response.status_code == 200
                assert response.json() == {"status": "ok"}

            """##),
    ]

    static func reference(_ path: String) -> String {
        guard let file = files.first(where: { $0.path == path }) else { preconditionFailure("the demo project has no file \(path)") }
        return file.content
    }

    static func task(of path: String) -> Int {
        guard let file = files.first(where: { $0.path == path }) else { preconditionFailure("the demo project has no file \(path)") }
        return file.task
    }

    /// Tasks each task depends on (as in `plan`): their files are in the atom's prompt.
    static let dependencies: [Int: [Int]] = [1: [], 2: [], 3: [2], 4: [1], 5: [3, 4], 6: [5], 7: [6]]

    // MARK: - Wrong answers, on purpose

    /// `reference(path)` with one piece replaced; the piece must be there.
    static func variant(of path: String, replacing old: String, with new: String) -> String {
        let text = reference(path)
        precondition(text.contains(old), "\(path) no longer contains the text the demo's wrong answer replaces")
        return text.replacingOccurrences(of: old, with: new)
    }

    /// Task 5's first answer: a parenthesis left open — python-syntax fails, the atom is retried.
    static var authWithSyntaxError: String {
        variant(of: "app/auth.py",
                replacing: "def login(body: LoginRequest, store: UserStore = Depends(get_user_store)) -> Token:",
                with: "def login(body: LoginRequest, store: UserStore = Depends(get_user_store) -> Token:")
    }

    /// Task 2's first answer: valid Python that hashes the password again with a fresh salt to verify
    /// it, so no password ever verifies — the MUST test test_password_hashing fails Gate S.
    static var passwordsThatFailTheGate: String {
        let text = reference("app/passwords.py")
        guard let start = text.range(of: "def verify_password") else { preconditionFailure("app/passwords.py has no verify_password") }
        return String(text[..<start.lowerBound]) + ##"""
            def verify_password(password: str, hashed: str) -> bool:
                """Check a password against a stored hash in constant time; a malformed hash never matches."""
                if not hashed.startswith(SCHEME + "$"):
                    return False
                return hmac.compare_digest(hash_password(password), hashed)

            """##
    }

    /// Task 4's first answer: uses timezone without importing it (pyflakes: undefined name).
    static var tokensWithoutTimezone: String {
        variant(of: "app/tokens.py", replacing: "from datetime import datetime, timedelta, timezone",
                with: "from datetime import datetime, timedelta")
    }

    /// Task 4's second answer: the timezone import is back, the Optional import is gone.
    static var tokensWithoutOptional: String {
        variant(of: "app/tokens.py", replacing: "from typing import Optional\n\n", with: "")
    }

    // MARK: - Other answers

    static let tokensReview = JSONValue([
        "summary": "app/tokens.py signs and verifies HS256 access tokens with PyJWT, pins the accepted algorithm and requires the exp, iat and sub claims, so expired, forged and malformed tokens raise TokenError. It took three attempts (an import was missing twice), but the final version is complete and matches the task: it can be approved as it is.",
        "recommended_action": "approve",
        "suggestions": [
            ["title": "Set a real secret in production",
             "detail": "settings.secret_key falls back to a development key (app/config.py). Deployments must set APP_SECRET_KEY to a long random value, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))'.",
             "severity": "medium"],
            ["title": "Tolerate small clock differences",
             "detail": "jwt.decode(..., leeway=timedelta(seconds=30)) in decode_access_token would accept tokens from a server whose clock is a little ahead; not needed while one instance issues and checks tokens.",
             "severity": "low"],
            ["title": "Room for revocation later",
             "detail": "A 'jti' claim (secrets.token_hex(16)) in create_access_token would allow a deny-list for logout if the service ever needs one.",
             "severity": "low"],
        ],
        "proposed_content": nil,
    ]).jsonText

    /// Suggestions for any other review (the demo script plans none, but a reviewer may create one).
    static let genericReview = JSONValue([
        "summary": "This answer comes from MasterPlan's scripted demo model, which has no review prepared for this file. Compare the file with its task's acceptance criteria and with the validator and test output shown beside it.",
        "recommended_action": "regenerate",
        "suggestions": [
            ["title": "Regenerate with the failing check named",
             "detail": "The demo model's next answer for this file is its reference version, which passes the plan's acceptance tests.",
             "severity": "medium"],
        ],
        "proposed_content": nil,
    ]).jsonText

    static let chatReply = JSONValue([
        "reply": "Hello! I am MasterPlan's scripted demo model: I answer from a prepared script, not as a real language model, so I can build one example. To watch the whole flow, send:\n\n/masterplan create a FastAPI app with JWT auth\n\nMasterPlan then analyses the domain, proposes a plan with acceptance tests for you to review and, once you approve it, writes and tests the code wave by wave. To talk to a real model, set MASTERPLAN_LLM (see the README).",
        "plan_request": .string(DemoCassette.request),
    ]).jsonText

    /// An atom's answer: `{"file", "content", "notes"}`.
    static func atom(_ path: String, _ content: String, notes: String) -> String {
        JSONValue(["file": .string(path), "content": .string(content), "notes": .string(notes)]).jsonText
    }

    // MARK: - The calls

    /// One line of the cassette.
    struct Call {
        var purpose: LLMRequest.Purpose
        var key: String
        var comment: String
        var response: String
        /// Tokens of the prompt (system, template and context) and of the answer.
        var inputTokens: Int
        var outputTokens: Int
        var delayMilliseconds: Int

        /// The cassette line: compact JSON, response last.
        var line: String {
            let object: JSONObject = [
                "purpose": .string(purpose.rawValue), "key": .string(key), "model": .string(DemoScript.model),
                "comment": .string(comment),
                "usage": ["input_tokens": JSONValue(inputTokens), "output_tokens": JSONValue(outputTokens), "cached_tokens": 0],
                "delay_ms": JSONValue(delayMilliseconds), "chunk_chars": JSONValue(DemoScript.chunkCharacters),
                "response": .string(response),
            ]
            return JSONValue.object(object).jsonText
        }
    }

    static let chunkCharacters = 40

    /// About four characters per token.
    static func tokens(_ text: String) -> Int { max(1, (text.utf8.count + 3) / 4) }

    /// A wait that grows with the answer, 300 to 800 ms.
    static func atomDelay(_ answer: String) -> Int { 300 + min(500, tokens(answer) / 4) }

    /// The content of the files an atom's prompt carries: those of the tasks its task depends on.
    static func dependencyText(of task: Int) -> String {
        (dependencies[task] ?? []).flatMap { dependency in files.filter { $0.task == dependency }.map(\.content) }.joined()
    }

    static func atomCall(_ path: String, _ content: String, notes: String, comment: String,
                         purpose: LLMRequest.Purpose = .atom, retryOf previous: String? = nil) -> Call {
        let task = task(of: path)
        let answer = atom(path, content, notes: notes)
        // System part and template about 600 tokens; the task, its dependencies' files, and on a
        // retry or repair the previous version with the errors.
        let context = dependencyText(of: task) + (previous ?? "")
        return Call(purpose: purpose, key: "task-\(task)/\(path)", comment: comment, response: answer,
                    inputTokens: 600 + 180 + tokens(context) + (previous == nil ? 0 : 120), outputTokens: tokens(answer),
                    delayMilliseconds: atomDelay(answer))
    }

    static let notes: [String: String] = [
        "requirements.txt": "Runtime and test dependencies, each with the Debian 12 package that provides it.",
        "app/__init__.py": "Marks the package and gives its version.",
        "app/config.py": "Settings come from APP_SECRET_KEY, APP_JWT_ALGORITHM and APP_ACCESS_TOKEN_MINUTES; the default secret is for development only.",
        "app/passwords.py": "PBKDF2-HMAC-SHA256 with a random salt, stored in a self-describing format and compared in constant time.",
        "app/models.py": "pydantic 1.10 models; UserPublic never includes the password hash.",
        "app/users.py": "In-memory and thread-safe; usernames are unique regardless of case.",
        "app/tokens.py": "HS256 by default; decoding pins the algorithm and requires exp, iat and sub.",
        "app/auth.py": "HTTPBearer(auto_error=False) so that a missing token is a 401, not FastAPI's default 403.",
        "app/main.py": "create_app() gives each app its own user store, which keeps tests independent.",
        "README.md": "Install, run, settings, curl examples and tests.",
    ]

    /// Every call of the demo, in the order the executor makes them (calls of one wave run
    /// concurrently; their order in the file matters only within one key).
    static var calls: [Call] {
        var calls: [Call] = []
        calls.append(Call(purpose: .chat, key: "chat", comment: "Any chat message that is not a /masterplan command.",
                          response: chatReply, inputTokens: 420, outputTokens: tokens(chatReply), delayMilliseconds: 600))
        calls.append(Call(purpose: .discovery, key: "discovery", comment: "Generation 1/3: the domain discovery.",
                          response: discovery, inputTokens: 640, outputTokens: tokens(discovery), delayMilliseconds: 1500))
        calls.append(Call(purpose: .masterplan, key: "masterplan",
                          comment: "Generation 2/3: the plan — 7 tasks, 10 files, 5 waves.",
                          response: plan, inputTokens: 1_150 + tokens(discovery), outputTokens: tokens(plan), delayMilliseconds: 4000))
        let tests = acceptanceTests
        calls.append(Call(purpose: .acceptanceTests, key: "acceptance_tests",
                          comment: "Generation 3/3: seven pytest acceptance tests (5 MUST, 2 SHOULD).",
                          response: tests, inputTokens: 700 + tokens(plan), outputTokens: tokens(tests), delayMilliseconds: 2500))

        for file in files {
            let path = file.path, content = file.content, note = notes[path] ?? ""
            switch path {
            case "app/passwords.py":
                let wrong = passwordsThatFailTheGate
                calls.append(atomCall(path, wrong, notes: note,
                                      comment: "Wave 1, Gate S failure: valid Python, but verify_password hashes with a fresh salt, so the MUST test test_password_hashing fails."))
                calls.append(atomCall(path, content, notes: note,
                                      comment: "Any later atom call for this file (a reviewer's regenerate): the right version."))
                calls.append(atomCall(path, content, notes: "Fixed: verify_password now derives the digest with the stored salt and iterations instead of hashing again with a new salt.",
                                      comment: "Wave 1, repair round 1: the gate repair of the failing task's only atom; the gate passes.",
                                      purpose: .gateRepair, retryOf: wrong))
            case "app/tokens.py":
                let first = tokensWithoutTimezone, second = tokensWithoutOptional
                calls.append(atomCall(path, first, notes: note,
                                      comment: "Wave 2, low confidence 1/3: pyflakes finds the undefined name 'timezone'."))
                calls.append(atomCall(path, second, notes: note, comment: "Wave 2, low confidence 2/3: timezone imported, but now 'Optional' is undefined.",
                                      retryOf: first))
                calls.append(atomCall(path, content, notes: note,
                                      comment: "Wave 2, low confidence 3/3: valid. High complexity after three attempts scores 0.65 < 0.70: a review.",
                                      retryOf: second))
                let suggestionsInput = 700 + tokens(content)
                calls.append(Call(purpose: .reviewSuggestions, key: "task-4/app/tokens.py",
                                  comment: "The AI suggestions shown with the low-confidence review of app/tokens.py.",
                                  response: tokensReview, inputTokens: suggestionsInput, outputTokens: tokens(tokensReview),
                                  delayMilliseconds: 1200))
            case "app/auth.py":
                let wrong = authWithSyntaxError
                calls.append(atomCall(path, wrong, notes: note,
                                      comment: "Wave 3, retry 1/2: a parenthesis left open; python-syntax fails."))
                calls.append(atomCall(path, content, notes: note, comment: "Wave 3, retry 2/2: the corrected file passes validation.",
                                      retryOf: wrong))
            default:
                calls.append(atomCall(path, content, notes: note, comment: "Wave \(wave(of: file.task)): right the first time."))
            }
        }
        calls.append(Call(purpose: .reviewSuggestions, key: "*",
                          comment: "Suggestions for any other review (none is planned in the demo).",
                          response: genericReview, inputTokens: 1_100, outputTokens: tokens(genericReview), delayMilliseconds: 900))
        return calls
    }

    /// The wave of a task's atoms: one more than the latest wave of its dependencies.
    static func wave(of task: Int) -> Int {
        1 + ((dependencies[task] ?? []).map(wave(of:)).max() ?? 0)
    }

    /// The cassette file.
    static var cassetteText: String {
        var lines = [
            "# MasterPlan demo cassette: a SCRIPTED model (\(model)), not a real one.",
            "# It answers the calls of the example \"\(request)\" end to end; see README.txt beside this file.",
            "# Generated from Tests/EngineTests/Demo/DemoScript.swift; do not edit by hand.",
            "# Format: README.md, \"LLM replay cassettes\"; one JSON object per line, matched by purpose and key.",
        ]
        lines += calls.map(\.line)
        return lines.joined(separator: "\n") + "\n"
    }
}
