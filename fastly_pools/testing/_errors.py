"""The API's error answers: an exception carrying the status and the legacy `{msg, detail}` body."""

from __future__ import annotations

UNAUTHORIZED = {"msg": "Provided credentials are missing or invalid"}
READ_ONLY = {"msg": "Read only tokens are not allowed to access this endpoint."}
RATE_LIMITED = {
    "msg": "You have exceeded your hourly rate limit. "
    "Please contact support@fastly.com if you think this is a mistake."
}


class ApiError(Exception):
    """Raised inside the fake when a request must be answered with an error body.

    Strictly private: handlers turn it into a JSON response.
    """

    def __init__(self, status: int, msg: str, detail: str | None = None) -> None:
        super().__init__(status, msg, detail)
        self.status = status
        self.msg = msg
        self.detail = detail

    @property
    def body(self) -> dict[str, str]:
        """The JSON body; `detail` is left out when there is none, as the API does."""
        if self.detail is None:
            return {"msg": self.msg}
        return {"msg": self.msg, "detail": self.detail}


def bad_request(detail: str) -> ApiError:
    return ApiError(400, "Bad request", detail)


def not_found() -> ApiError:
    return ApiError(404, "Not found")


def method_not_allowed() -> ApiError:
    return ApiError(405, "Method not allowed")


def service_not_found() -> ApiError:
    return ApiError(404, "Record not found", "Cannot find 'service'")


def version_not_found(service_id: str, version: str) -> ApiError:
    # Not recorded for versions; shaped like the recorded pool detail.
    return ApiError(
        404,
        "Record not found",
        f"Couldn't find Version '{{ number => {version}, service => {service_id} }}'",
    )


def pool_not_found(service_id: str, version: int, name: str) -> ApiError:
    return ApiError(
        404,
        "Record not found",
        f"Couldn't find Pool '{{ deleted => 0000-00-00 00:00:00, name => {name}, "
        f"service => {service_id}, version => {version} }}'",
    )


def duplicate_pool(name: str) -> ApiError:
    return ApiError(409, "Duplicate record", f"Duplicate pool: '{name}'")


def version_locked(service_id: str, version: int) -> ApiError:
    return ApiError(
        422, "Version locked", f"Version '{version}' for service '{service_id}' is locked"
    )
