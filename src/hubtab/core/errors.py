"""The domain error every service raises: a stable code a program can branch on and a message a person can act on."""


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
