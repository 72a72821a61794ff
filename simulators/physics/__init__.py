"""Pure, time-stepped physics of the reference pad: no sockets, no clocks, no sleeping.

State changes only in `step(dt_s)`. Each area module models one pad system and names its
plant points by their P&ID tags; `Plant` steps them together with their couplings.
"""

from simulators.physics._actuators import (
    Actuator,
    ControlValve,
    Motor,
    TwoPositionActuator,
    on_off_valve,
)
from simulators.physics._area import Area
from simulators.physics._cable_mast import CableMast
from simulators.physics._common import CommandTable, Outputs, Value
from simulators.physics._cryo_tank import CryoTank, lox_saturation_k
from simulators.physics._deluge import Deluge
from simulators.physics._erector import Erector, ErectorDrive
from simulators.physics._fire import DETECTOR_TAGS, FireSystem
from simulators.physics._gas import GasSupply
from simulators.physics._hold_downs import HoldDowns
from simulators.physics._kerosene import KeroseneSystem
from simulators.physics._kerosene_tank import KeroseneTank
from simulators.physics._lox import LoxSystem, liquid_fraction
from simulators.physics._plant import Plant
from simulators.physics._power import GroundPower
from simulators.physics._thermal import ThermalConditioning
from simulators.physics._ullage import UllageGas
from simulators.physics._vehicle import EngineState, Vehicle

__all__ = [
    "DETECTOR_TAGS",
    "Actuator",
    "Area",
    "CableMast",
    "CommandTable",
    "ControlValve",
    "CryoTank",
    "Deluge",
    "EngineState",
    "Erector",
    "ErectorDrive",
    "FireSystem",
    "GasSupply",
    "GroundPower",
    "HoldDowns",
    "KeroseneSystem",
    "KeroseneTank",
    "LoxSystem",
    "Motor",
    "Outputs",
    "Plant",
    "ThermalConditioning",
    "TwoPositionActuator",
    "UllageGas",
    "Value",
    "Vehicle",
    "liquid_fraction",
    "lox_saturation_k",
    "on_off_valve",
]
