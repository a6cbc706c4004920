"""API tokens: DRF's TokenAuthentication, refusing a key it could never have issued before looking
it up. A key holding a NUL byte (`Authorization: Token %00`) reached PostgreSQL, which refuses
the byte: a 500 rather than 401."""

from rest_framework import authentication, exceptions

KEY_LENGTH = 40  # rest_framework.authtoken.models.Token.key: 20 random bytes in hex


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str):
        if len(key) > KEY_LENGTH or not (key.isascii() and key.isprintable()):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)
