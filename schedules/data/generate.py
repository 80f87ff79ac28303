#!/usr/bin/env python3
"""Writes the smart-home sample data next to this script.

- energy_readings.csv: every hour of 2025 (local wall time) for one household with a heat pump,
  an air conditioner, an 11 kW wallbox and the usual appliances: the meter total (kwh), the outdoor
  temperature and one column per circuit. Weather follows the seasons with a cold snap and a heat
  wave; the household has routines (breakfast, dinner, laundry, charging the car after work) and a
  summer holiday.
- devices.csv: the device inventory as the hub last reported it (2025-12-31 23:00).
- firmware.json: the newest firmware per device model.
- automations.json: the automations the home runs today.

Problems left in on purpose, for the example workflows to find:
- the heat pump's backup heater stuck on for a mild week in March;
- the fridge failing from mid-November (its compressor runs longer every day);
- the air conditioner left on during the August holiday;
- a meter glitch (one implausible hour whose total does not match its circuits) and a three-hour
  gap in May;
- in the inventory: a duplicated id, devices not seen for days, outdated firmware (some with
  security fixes), a flat battery, old power-hungry appliances, two devices that just appeared.

The random generator has a fixed seed: running this twice writes the same bytes.
"""
import datetime as dt
import json
import math
import os
import random

SEED = 20260101
YEAR = 2025
HERE = os.path.dirname(os.path.abspath(__file__))

CIRCUITS = ["heat_pump", "ac", "ev", "fridge", "laundry", "kitchen", "other"]

COLD_SNAP = (dt.date(2025, 2, 17), dt.date(2025, 2, 23))
STUCK_HEATER = (dt.date(2025, 3, 17), dt.date(2025, 3, 23))
HEAT_WAVE = (dt.date(2025, 7, 1), dt.date(2025, 7, 6))
HOLIDAY = (dt.date(2025, 8, 4), dt.date(2025, 8, 15))
FRIDGE_FAULT = dt.date(2025, 11, 10)
METER_GLITCH = dt.datetime(2025, 6, 21, 14)
METER_GAP = (dt.datetime(2025, 5, 14, 2), 3)


def within(day, span):
    return span[0] <= day <= span[1]


def readings(rng):
    start = dt.datetime(YEAR, 1, 1)
    days = (dt.date(YEAR + 1, 1, 1) - dt.date(YEAR, 1, 1)).days
    hours = days * 24
    load = {c: [0.0] * hours for c in CIRCUITS}
    outdoor = [0.0] * hours
    weather = 0.0

    for d in range(days):
        day = dt.date(YEAR, 1, 1) + dt.timedelta(days=d)
        doy = day.timetuple().tm_yday
        weekend = day.weekday() >= 5
        away = within(day, HOLIDAY)
        season = math.cos(2 * math.pi * (doy - 18) / 365.25)  # 1 in mid-January, -1 in mid-July
        weather = 0.75 * weather + rng.gauss(0, 2.2)
        mean_c = 9.5 - 10.0 * season + weather
        if within(day, COLD_SNAP):
            mean_c -= 5.0
        if within(day, HEAT_WAVE):
            mean_c += 7.5
        swing = 4.0 - 1.5 * season
        daylight = math.cos(2 * math.pi * (doy - 172) / 365.25)  # 1 at midsummer
        sunset = 19.0 + 2.6 * daylight
        sunrise = 6.5 - 1.8 * daylight
        base = d * 24

        for h in range(24):
            i = base + h
            temp = mean_c + swing * math.sin(2 * math.pi * (h - 9) / 24) + rng.gauss(0, 0.4)
            outdoor[i] = temp

            # Heat pump: space heating in the heating season, hot water twice a day.
            heat = 0.0
            if mean_c < 15.5:
                setpoint = 20.5 if 6 <= h < 22 else 17.0
                thermal = max(0.0, 0.18 * (setpoint - temp))
                cop = min(4.5, max(2.0, 3.1 + 0.07 * temp))
                heat = thermal / cop * (1 + rng.gauss(0, 0.06))
            if not away:
                if h == 6:
                    heat += 0.85 + rng.gauss(0, 0.08)
                elif h == 19:
                    heat += 0.65 + rng.gauss(0, 0.08)
            if within(day, STUCK_HEATER):
                heat += 1.8 + rng.gauss(0, 0.04)
            load["heat_pump"][i] += max(0.0, heat)

            # Air conditioning: afternoons and evenings when it is hot; left on during the holiday.
            if away and temp > 20.0:
                load["ac"][i] += 0.25 * (temp - 20.0) * (1 + rng.gauss(0, 0.05))
            elif not away and temp > 24.0 and 10 <= h <= 23:
                load["ac"][i] += 0.16 * (temp - 23.0) * (1 + rng.gauss(0, 0.08))

            # Fridge: a little more in summer; failing compressor from mid-November.
            factor = 1.0 + 0.15 * max(0.0, -season)
            if day >= FRIDGE_FAULT:
                factor *= 1.0 + 1.6 * min(1.0, (day - FRIDGE_FAULT).days / 21)
            load["fridge"][i] += 0.055 * factor * (1 + rng.gauss(0, 0.12))

            # Laundry standby (washer and old dryer, about 20 W around the clock).
            load["laundry"][i] += 0.02

            # Kitchen, lighting, office and the rest.
            other = 0.15 + rng.gauss(0, 0.01)  # router, NAS, old chest freezer, standby
            kitchen = 0.0
            if not away:
                kitchen = 0.03
                if h == (8 if weekend else 6):
                    kitchen += 0.35 + rng.gauss(0, 0.06)
                if weekend and h == 12:
                    kitchen += 0.6 + rng.gauss(0, 0.1)
                if h == (17 if weekend else 18):
                    kitchen += 1.2 + rng.gauss(0, 0.35)
                if (h >= math.floor(sunset) and h < 23) or (6 <= h < sunrise):
                    other += 0.12
                if 19 <= h <= 22:
                    other += 0.10
                if not weekend and 8 <= h < 17:
                    other += 0.09
            load["kitchen"][i] += max(0.0, kitchen)
            load["other"][i] += max(0.0, other)

        if away:
            continue
        # Dishwasher most evenings.
        if rng.random() < 0.7:
            load["kitchen"][base + 21] += 0.8 + rng.gauss(0, 0.05)
            load["kitchen"][base + 22] += 0.3 + rng.gauss(0, 0.03)
        # Laundry: weekday evenings, weekend mornings; the dryer follows the washer, more in winter.
        if rng.random() < (0.8 if weekend else 0.35):
            start_h = rng.randint(9, 14) if weekend else rng.randint(18, 20)
            at = base + start_h
            load["laundry"][at] += 0.75 + rng.gauss(0, 0.05)
            load["laundry"][at + 1] += 0.35 + rng.gauss(0, 0.03)
            if rng.random() < 0.65 + 0.25 * season:
                load["laundry"][at + 2] += 1.45 + rng.gauss(0, 0.08)
                load["laundry"][at + 3] += 1.15 + rng.gauss(0, 0.08)
        # The car is plugged in after work and charges at once at 11 kW.
        if rng.random() < (0.3 if weekend else 0.5):
            minute = rng.randint(0, 59)
            energy = min(32.0, max(8.0, rng.gauss(19, 5)))
            at = base + rng.randint(17, 19)
            first = 11.0 * (60 - minute) / 60
            while energy > 0 and at < hours:
                step = min(energy, first)
                load["ev"][at] += step
                energy -= step
                first = 11.0
                at += 1

    gap_start = int((METER_GAP[0] - start).total_seconds() // 3600)
    gap = set(range(gap_start, gap_start + METER_GAP[1]))
    glitch = int((METER_GLITCH - start).total_seconds() // 3600)

    def fmt(v):
        v = round(v, 2)
        return "0" if v == 0 else f"{v:.2f}"

    lines = ["timestamp,kwh,outdoor_c," + ",".join(CIRCUITS)]
    for i in range(hours):
        if i in gap:
            continue
        parts = [fmt(load[c][i]) for c in CIRCUITS]
        total = sum(float(p) for p in parts)
        if i == glitch:
            total = 48.7
        stamp = (start + dt.timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M")
        lines.append(f"{stamp},{total:.2f},{round(outdoor[i], 1) + 0.0:.1f}," + ",".join(parts))
    return "\n".join(lines) + "\n"


DEVICE_COLUMNS = [
    "id", "name", "room", "kind", "model", "circuit", "rated_w", "standby_w", "installed", "firmware",
    "protocol", "battery_pct", "first_seen", "last_seen",
]

DEVICES = [
    ("hp-01", "Heat pump", "utility", "heat_pump", "AW-7", "heat_pump", 2400, 12, 2021, "3.4.1", "modbus", "", "2021-10-04T09:12", "2025-12-31T22:58"),
    ("hp-02", "Heat pump backup heater", "utility", "heater", "BH-6", "heat_pump", 6000, 0, 2021, "1.2.0", "modbus", "", "2021-10-04T09:15", "2025-12-31T22:58"),
    ("ac-01", "Living room split AC", "living", "ac", "SPL-25", "ac", 2200, 3, 2019, "2.0.3", "wifi", "", "2019-06-20T16:40", "2025-12-31T22:41"),
    ("ev-01", "Wallbox", "garage", "ev_charger", "WB-11", "ev", 11000, 4, 2022, "1.9.0", "wifi", "", "2022-03-11T11:05", "2025-12-31T22:55"),
    ("fridge-01", "Kitchen fridge", "kitchen", "fridge", "KF-300", "fridge", 150, 0, 2009, "", "none", "", "2020-01-15T10:00", "2025-12-31T22:59"),
    ("freezer-01", "Chest freezer", "basement", "freezer", "CF-250", "other", 200, 0, 2006, "", "none", "", "2020-01-15T10:00", "2025-12-31T22:59"),
    ("washer-01", "Washing machine", "utility", "washer", "WM-8", "laundry", 2100, 1, 2018, "4.1.0", "wifi", "", "2018-05-02T18:30", "2025-12-31T20:12"),
    ("dryer-01", "Tumble dryer", "utility", "dryer", "TD-7", "laundry", 2500, 19, 2011, "", "none", "", "2020-01-15T10:00", "2025-12-31T22:59"),
    ("dishwasher-01", "Dishwasher", "kitchen", "dishwasher", "DW-45", "kitchen", 1900, 1, 2020, "2.2.0", "wifi", "", "2020-02-28T12:00", "2025-12-31T22:47"),
    ("oven-01", "Oven", "kitchen", "oven", "OV-60", "kitchen", 3500, 2, 2020, "1.0.7", "wifi", "", "2020-02-28T12:30", "2025-12-31T19:02"),
    ("plug-01", "TV plug", "living", "plug", "SP-2", "other", 3680, 1, 2023, "1.14.2", "zigbee", "", "2023-01-07T15:00", "2025-12-31T22:59"),
    ("plug-02", "NAS plug", "office", "plug", "SP-2", "other", 3680, 1, 2023, "1.14.2", "zigbee", "", "2023-01-07T15:05", "2025-12-31T22:59"),
    ("plug-03", "Dryer plug", "utility", "plug", "SP-2", "laundry", 3680, 1, 2023, "1.12.0", "zigbee", "", "2023-01-07T15:10", "2025-12-31T22:58"),
    ("plug-04", "Desk plug", "office", "plug", "SP-1", "other", 2300, 1, 2020, "0.9.8", "zigbee", "", "2020-11-21T09:00", "2025-12-31T22:57"),
    ("plug-05", "Aquarium plug", "living", "plug", "SP-1", "other", 2300, 1, 2020, "0.9.8", "zigbee", "", "2020-11-21T09:05", "2025-12-29T06:31"),
    ("plug-06", "Washer plug", "utility", "plug", "SP-2", "laundry", 3680, 1, 2023, "1.14.2", "zigbee", "", "2023-01-07T15:12", "2025-12-31T22:58"),
    ("plug-07", "Garage plug", "garage", "plug", "SP-2", "other", 3680, 1, 2023, "1.14.2", "zigbee", "", "2023-04-02T10:00", "2025-12-31T22:50"),
    ("plug-07", "Kids room plug", "kids", "plug", "SP-2", "other", 3680, 1, 2024, "1.14.2", "zigbee", "", "2024-09-14T17:20", "2025-12-31T22:52"),
    ("plug-09", "Smart plug 4F2A", "", "plug", "SP-3", "other", 3680, 1, 2025, "2.0.1", "matter", "", "2025-12-29T18:44", "2025-12-31T22:56"),
    ("light-hall", "Hall light", "hall", "light", "BL-9", "other", 9, 0, 2022, "5.2.0", "zigbee", "", "2022-01-10T19:00", "2025-12-31T22:30"),
    ("light-kitchen", "Kitchen light", "kitchen", "light", "BL-9", "other", 9, 0, 2022, "5.2.0", "zigbee", "", "2022-01-10T19:02", "2025-12-31T22:31"),
    ("light-living", "Living room light", "living", "light", "BL-12", "other", 12, 0, 2022, "5.1.3", "zigbee", "", "2022-01-10T19:05", "2025-12-31T22:40"),
    ("thermo-living", "Living room thermostat", "living", "thermostat", "TRV-3", "heat_pump", 0, 0, 2021, "2.7.0", "zigbee", "71", "2021-10-05T08:00", "2025-12-31T22:45"),
    ("thermo-bed", "Bedroom thermostat", "bedroom", "thermostat", "TRV-3", "heat_pump", 0, 0, 2021, "2.7.0", "zigbee", "64", "2021-10-05T08:02", "2025-12-31T22:44"),
    ("thermo-kids", "Kids room thermostat", "kids", "thermostat", "TRV-3", "heat_pump", 0, 0, 2021, "2.6.1", "zigbee", "12", "2021-10-05T08:04", "2025-12-31T21:10"),
    ("motion-hall", "Hall motion sensor", "hall", "motion", "MS-1", "other", 0, 0, 2022, "1.3.0", "zigbee", "88", "2022-01-10T19:10", "2025-12-31T22:37"),
    ("door-front", "Front door contact", "hall", "contact", "DC-2", "other", 0, 0, 2022, "1.1.4", "zigbee", "93", "2022-01-10T19:12", "2025-12-31T18:05"),
    ("window-bed", "Bedroom window contact", "bedroom", "contact", "DC-2", "other", 0, 0, 2022, "1.1.4", "zigbee", "0", "2022-01-10T19:14", "2025-12-02T03:17"),
    ("smoke-kitchen", "Kitchen smoke alarm", "kitchen", "smoke", "SA-5", "other", 0, 0, 2021, "3.0.2", "zigbee", "76", "2021-11-02T10:00", "2025-12-31T22:00"),
    ("leak-basement", "Basement leak sensor", "basement", "leak", "WL-1", "other", 0, 0, 2021, "1.0.5", "zigbee", "18", "2021-11-02T10:05", "2025-12-31T21:30"),
    ("camera-garden", "Garden camera", "garden", "camera", "CAM-4", "other", 6, 6, 2020, "4.2.9", "wifi", "", "2020-07-01T12:00", "2025-12-19T13:22"),
    ("co2-office", "Office CO2 sensor", "office", "co2", "AQ-2", "other", 1, 1, 2025, "1.0.0", "matter", "", "2025-12-27T10:31", "2025-12-31T22:59"),
    ("meter-01", "Smart meter gateway", "utility", "meter", "SMGW-1", "other", 5, 5, 2020, "2.1.0", "wired", "", "2020-01-15T10:00", "2025-12-31T23:00"),
    ("hub-01", "Zigbee hub", "hall", "hub", "HUB-2", "other", 3, 3, 2022, "2.30.1", "wired", "", "2022-01-10T18:30", "2025-12-31T23:00"),
]

FIRMWARE = {
    "AW-7": {"latest": "3.4.1", "released": "2025-06-02", "security": False},
    "BH-6": {"latest": "1.2.0", "released": "2023-02-10", "security": False},
    "SPL-25": {"latest": "2.1.0", "released": "2025-04-18", "security": False},
    "WB-11": {"latest": "2.1.0", "released": "2025-09-30", "security": True, "note": "fixes an authentication bypass in the local API"},
    "WM-8": {"latest": "4.1.0", "released": "2024-11-05", "security": False},
    "DW-45": {"latest": "2.2.0", "released": "2024-08-19", "security": False},
    "OV-60": {"latest": "1.0.7", "released": "2023-12-01", "security": False},
    "SP-1": {"latest": "1.0.4", "released": "2024-03-12", "security": True, "note": "closes an open pairing window after power loss"},
    "SP-2": {"latest": "1.14.2", "released": "2025-07-07", "security": False},
    "SP-3": {"latest": "2.0.1", "released": "2025-11-20", "security": False},
    "BL-9": {"latest": "5.2.0", "released": "2025-02-14", "security": False},
    "BL-12": {"latest": "5.2.0", "released": "2025-02-14", "security": False},
    "TRV-3": {"latest": "2.7.0", "released": "2025-01-30", "security": False},
    "MS-1": {"latest": "1.3.0", "released": "2023-05-22", "security": False},
    "DC-2": {"latest": "1.1.4", "released": "2022-09-09", "security": False},
    "SA-5": {"latest": "3.0.2", "released": "2024-10-01", "security": False},
    "WL-1": {"latest": "1.0.5", "released": "2022-11-30", "security": False},
    "CAM-4": {"latest": "4.4.0", "released": "2025-10-14", "security": True, "note": "patches remote code execution in the RTSP server"},
    "AQ-2": {"latest": "1.0.0", "released": "2025-10-01", "security": False},
    "SMGW-1": {"latest": "2.1.0", "released": "2024-06-01", "security": False},
    "HUB-2": {"latest": "2.31.0", "released": "2025-12-03", "security": False},
}

AUTOMATIONS = [
    {"id": "hall_light_motion", "alias": "Hall light on motion", "device_id": "light-hall",
     "trigger": {"type": "device", "device_id": "motion-hall", "event": "motion"},
     "action": {"service": "turn_on", "for_minutes": 5}, "days": "daily", "enabled": True},
    {"id": "heating_night_setback", "alias": "Heating night setback", "device_id": "hp-01",
     "trigger": {"type": "time", "at": "22:00"}, "action": {"service": "set_temperature", "value": 17.0},
     "until": "06:00", "days": "daily", "enabled": True},
    {"id": "ev_charge_on_plug", "alias": "Charge the car when plugged in", "device_id": "ev-01",
     "trigger": {"type": "device", "device_id": "ev-01", "event": "plugged_in"},
     "action": {"service": "start_charging", "power_kw": 11.0}, "days": "daily", "enabled": True},
    {"id": "dishwasher_evening", "alias": "Dishwasher after dinner", "device_id": "dishwasher-01",
     "trigger": {"type": "time", "at": "21:00"}, "action": {"service": "start_program", "program": "eco"},
     "days": "daily", "enabled": True},
    {"id": "tv_plug_off_night", "alias": "TV plug off at night", "device_id": "plug-01",
     "trigger": {"type": "time", "at": "01:00"}, "action": {"service": "turn_off"}, "until": "07:00",
     "days": "daily", "enabled": True},
    {"id": "leak_alert", "alias": "Leak alert", "device_id": "leak-basement",
     "trigger": {"type": "device", "device_id": "leak-basement", "event": "wet"},
     "action": {"service": "notify", "target": "phones"}, "days": "daily", "enabled": True},
]


def devices_csv():
    rows = [",".join(DEVICE_COLUMNS)]
    for device in DEVICES:
        rows.append(",".join(str(v) for v in device))
    return "\n".join(rows) + "\n"


def write(name, text):
    path = os.path.join(HERE, name)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {name} ({len(text.encode())} bytes)")


def main():
    rng = random.Random(SEED)
    write("energy_readings.csv", readings(rng))
    write("devices.csv", devices_csv())
    write("firmware.json", json.dumps({"as_of": "2025-12-31", "models": FIRMWARE}, indent=2, sort_keys=True) + "\n")
    write("automations.json", json.dumps({"as_of": "2025-12-31", "automations": AUTOMATIONS}, indent=2) + "\n")


if __name__ == "__main__":
    main()
