import json

import pytest

from shunt.accounts.credential_input import parse_credential_input
from shunt.errors import CredentialsError

SECRET = "sk-ant-oat01-very-secret-token"


def parse(document, name="alpha"):
    return parse_credential_input(json.dumps(document), name=name, source="creds.json")


def test_entry_form():
    credential, extra = parse(
        {"access_token": SECRET, "refresh_token": "r", "expires_at": 5, "email": "a@b"}
    )
    assert (credential.access_token, credential.refresh_token, credential.expires_at_ms) == (
        SECRET,
        "r",
        5,
    )
    assert extra == {"email": "a@b"}


def test_whole_file_picks_named_or_only_account():
    doc = {
        "accounts": {
            "alpha": {"access_token": "a", "expires_at": 1},
            "beta": {"access_token": "b", "expires_at": 2},
        }
    }
    assert parse(doc, "beta")[0].access_token == "b"
    assert (
        parse({"accounts": {"x": {"access_token": "x", "expires_at": 1}}}, "alpha")[0].access_token
        == "x"
    )
    with pytest.raises(CredentialsError, match="several accounts"):
        parse(doc, "gamma")


def test_claude_code_shape():
    doc = {
        "claudeAiOauth": {
            "accessToken": SECRET,
            "refreshToken": "r",
            "expiresAt": 9,
            "subscriptionType": "max",
        }
    }
    credential, extra = parse(doc)
    assert credential.expires_at_ms == 9
    assert extra == {"subscription_type": "max"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{nope", "not JSON"),
        ("[1]", "JSON object"),
        (json.dumps({"access_token": 5}), "access_token is missing"),
        (json.dumps({"access_token": SECRET, "expires_at": "soon"}), "epoch milliseconds"),
        (
            json.dumps({"access_token": SECRET, "refresh_token": 7}),
            "refresh_token must be a string",
        ),
        (json.dumps({"accounts": {}}), "holds no account"),
    ],
)
def test_bad_input_is_a_clear_error_without_tokens(text, message):
    with pytest.raises(CredentialsError, match=message) as caught:
        parse_credential_input(text, name="alpha", source="creds.json")
    assert "creds.json" in str(caught.value)
    assert SECRET not in str(caught.value)
