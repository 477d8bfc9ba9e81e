"""Pure routing: which account serves a request (SPEC §4). No I/O, no clock: `now` is passed in."""

from shunt.routing.capacity import CapacityEstimator as CapacityEstimator
from shunt.routing.conversation import conversation_key as conversation_key
from shunt.routing.pacing import PoolView as PoolView
from shunt.routing.router import Decision as Decision
from shunt.routing.router import RoutingPolicy as RoutingPolicy
from shunt.routing.router import choose as choose
from shunt.routing.sticky import StickyTable as StickyTable
from shunt.routing.strategies import STRATEGY_NAMES as STRATEGY_NAMES
from shunt.routing.strategies import rank as rank
from shunt.routing.strategies import sort_key as sort_key
