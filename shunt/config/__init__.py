"""Configuration: the schema (typed, frozen) and its validating reader; `edit` changes the file
keeping the user's comments."""

from shunt.config.load import ACCOUNT_PROVIDERS as ACCOUNT_PROVIDERS
from shunt.config.load import DAYS as DAYS
from shunt.config.load import KIB as KIB
from shunt.config.load import LOG_LEVELS as LOG_LEVELS
from shunt.config.load import MAX_PORT as MAX_PORT
from shunt.config.load import MIB as MIB
from shunt.config.load import NAME_PATTERN as NAME_PATTERN
from shunt.config.load import NAME_RULE as NAME_RULE
from shunt.config.load import PROVIDER_KINDS as PROVIDER_KINDS
from shunt.config.load import STRATEGIES as STRATEGIES
from shunt.config.load import AccountConfig as AccountConfig
from shunt.config.load import Config as Config
from shunt.config.load import OAuthConfig as OAuthConfig
from shunt.config.load import ProviderConfig as ProviderConfig
from shunt.config.load import RoutingConfig as RoutingConfig
from shunt.config.load import ServerConfig as ServerConfig
from shunt.config.load import load_config as load_config
from shunt.config.load import parse_config as parse_config
from shunt.config.load import parse_duration as parse_duration
from shunt.config.load import read_config_text as read_config_text
from shunt.config.load import validate_bind as validate_bind
