"""The whole pad plant: every area, stepped together with the couplings between them."""

from __future__ import annotations

from simulators.physics._area import Area
from simulators.physics._cable_mast import CableMast
from simulators.physics._deluge import Deluge
from simulators.physics._erector import Erector
from simulators.physics._fire import FireSystem
from simulators.physics._gas import GasSupply
from simulators.physics._hold_downs import HoldDowns
from simulators.physics._kerosene import KeroseneSystem
from simulators.physics._lox import LoxSystem
from simulators.physics._power import GroundPower
from simulators.physics._thermal import ThermalConditioning
from simulators.physics._vehicle import Vehicle


class Plant:
    """The reference pad's plant, in its start state: vehicle horizontal, tanks empty.

    Couplings: motors run only on a live main bus and load it; the helium flight
    pressurization line feeds the vehicle tanks; the helium spheres sit in the LOX tank;
    oxygen and fuel vapour vented reach the gas analyzers; deluge water puts out fires on
    the table; the vehicle's external power runs through the cable mast; liftoff needs
    the clamps released.
    """

    def __init__(self, *, ambient_c: float = 15.0) -> None:
        self.lox = LoxSystem(ambient_c=ambient_c)
        self.rg1 = KeroseneSystem(ambient_c=ambient_c)
        self.gas = GasSupply(ambient_c=ambient_c)
        self.thermal = ThermalConditioning(ambient_c=ambient_c)
        self.erector = Erector(ambient_c=ambient_c)
        self.mast = CableMast()
        self.hold_downs = HoldDowns()
        self.deluge = Deluge()
        self.fire = FireSystem()
        self.power = GroundPower()
        self.vehicle = Vehicle()

    def areas(self) -> list[Area]:
        return [
            self.lox, self.rg1, self.gas, self.thermal, self.erector, self.mast,
            self.hold_downs, self.deluge, self.fire, self.power, self.vehicle,
        ]  # fmt: skip

    def motor_load_a(self) -> float:
        """Main bus current drawn by the pad's motors and heaters."""
        loads = (
            (self.lox.pump, 250.0), (self.rg1.pump, 120.0), (self.rg1.heater, 80.0),
            (self.rg1.chiller, 100.0), (self.deluge.pump, 400.0), (self.erector.pump, 90.0),
            (self.thermal.fan, 30.0), (self.thermal.heater, 60.0),
        )  # fmt: skip
        return sum(motor.output * amps for motor, amps in loads)

    def step(self, dt_s: float, *, sensed_detectors: list[bool]) -> None:
        """Advance every area by one (small) step."""
        self.power.step(dt_s, load_a=self.motor_load_a(), vehicle_load_a=self.vehicle.ground_load_a)
        powered = self.power.bus_energized
        gas = self.gas
        gas.step(
            dt_s,
            lox_level_pct=self.lox.vehicle.level_pct,
            lox_temperature_k=self.lox.vehicle.temperature_k,
        )
        self.lox.step(
            dt_s, powered=powered, pressurization_fraction=gas.lox_pressurization_fraction,
            pressurization_bar=gas.pressurization_bar,
        )  # fmt: skip
        self.rg1.step(
            dt_s, powered=powered, pressurization_fraction=gas.rg1_pressurization_fraction,
            pressurization_bar=gas.pressurization_bar,
        )  # fmt: skip
        self.thermal.step(dt_s, powered=powered)
        self.erector.step(dt_s, powered=powered)
        self.mast.step(dt_s)
        self.hold_downs.step(dt_s)
        self.deluge.step(dt_s, powered=powered)
        self.fire.step(
            dt_s,
            sensed_detectors=sensed_detectors,
            deluge_m3_h=self.deluge.total_m3_h,
            oxygen_vented_kg_s=self.lox.vented_kg_s,
            fuel_vapour_kg_s=self.rg1.vented_kg_s,
        )
        self.vehicle.step(
            dt_s,
            ground_supply_v=self.power.vehicle_supply_v,
            umbilical_connected=self.mast.connected,
            clamps_released=self.hold_downs.all_released,
        )
