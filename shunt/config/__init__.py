"""Configuration: `schema` holds the typed, frozen settings and their defaults; `load` reads and
checks config.toml into them; `edit` changes the file keeping the user's comments."""

from shunt.config.bind import validate_bind as validate_bind
from shunt.config.bind import validate_ports as validate_ports
from shunt.config.load import load_config as load_config
from shunt.config.load import parse_config as parse_config
from shunt.config.load import read_config_text as read_config_text
from shunt.config.reader import parse_duration as parse_duration
from shunt.config.schema import LOG_LEVELS as LOG_LEVELS
from shunt.config.schema import MAX_PORT as MAX_PORT
from shunt.config.schema import NAME_PATTERN as NAME_PATTERN
from shunt.config.schema import NAME_RULE as NAME_RULE
from shunt.config.schema import STRATEGIES as STRATEGIES
from shunt.config.schema import AccountConfig as AccountConfig
from shunt.config.schema import Config as Config
from shunt.config.schema import LogConfig as LogConfig
from shunt.config.schema import OAuthConfig as OAuthConfig
from shunt.config.schema import OpenAiConfig as OpenAiConfig
from shunt.config.schema import RoutingConfig as RoutingConfig
from shunt.config.schema import ServerConfig as ServerConfig
