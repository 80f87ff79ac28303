"""Shared helpers for the example workflow scripts: the state in and out, the sample data in
../data, a few statistics and small SVG charts. Standard library only.

A script gets the run's state as JSON on stdin (also in $SCHEDULERD_INPUT), prints its state
update as one JSON object on stdout, writes artifacts into $SCHEDULERD_ARTIFACTS and a short
progress line on stderr.
"""
import csv
import datetime as dt
import hashlib
import html
import json
import math
import os
import sys

from schedulerd_spans import span  # the steps below show as spans inside the script's TOOL span

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "data"))
READINGS_FILE = os.path.join(DATA, "energy_readings.csv")
DEVICES_FILE = os.path.join(DATA, "devices.csv")
FIRMWARE_FILE = os.path.join(DATA, "firmware.json")
AUTOMATIONS_FILE = os.path.join(DATA, "automations.json")

CIRCUITS = ("heat_pump", "ac", "ev", "fridge", "laundry", "kitchen", "other")
# Circuits whose use follows the weather; the others should be steady from month to month.
WEATHER_CIRCUITS = ("heat_pump", "ac")
COLORS = {
    "heat_pump": "#d9534f", "ac": "#5bc0de", "ev": "#5cb85c", "fridge": "#8e6fbf",
    "laundry": "#f0ad4e", "kitchen": "#c7a27c", "other": "#9aa5b1",
}
# The main fuse (3 x 35 A at 230 V): more than this in one hour is a meter error.
MAX_HOURLY_KWH = 24.2
# What the household should draw at once (3 x 25 A at 230 V).
POWER_BUDGET_KW = 17.3
# Time-of-use tariff: off-peak from 22:00 to 07:00.
TARIFF = {"peak_eur": 0.36, "offpeak_eur": 0.24, "offpeak_from": 22, "offpeak_until": 7}
QUIET_HOURS = {"from": 22, "until": 7}
NOISY_KINDS = {"washer", "dryer"}
# Never switched off or shifted by an automation without a person looking at it.
CRITICAL_KINDS = {"fridge", "freezer", "heat_pump", "heater", "smoke", "leak", "meter", "hub", "contact", "camera"}
# Loads that can run later without anyone noticing.
FLEXIBLE_KINDS = {"ev_charger", "washer", "dryer", "dishwasher"}
# Battery devices report less often than mains-powered ones.
STALE_AFTER_H = {"battery": 72, "mains": 24}


# --- state in and out ---------------------------------------------------------------------------

def read_state():
    text = sys.stdin.read()
    if not text.strip():
        path = os.environ.get("SCHEDULERD_INPUT")
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                text = f.read()
    state = json.loads(text) if text.strip() else {}
    if not isinstance(state, dict):
        raise SystemExit("the state on stdin is not a JSON object")
    return state


def emit(update):
    json.dump(update, sys.stdout, separators=(",", ":"), sort_keys=True)
    sys.stdout.write("\n")


def log(message):
    print(message, file=sys.stderr)


def need(state, *keys):
    """Stops with a clear message when an earlier node did not leave these keys in the state."""
    missing = [k for k in keys if state.get(k) is None]
    if missing:
        log(f"{os.path.basename(sys.argv[0])}: the state has no {', '.join(missing)}; "
            f"the node that computes {'it' if len(missing) == 1 else 'them'} must run first")
        sys.exit(3)


def payload(state):
    """The trigger's payload: `trigger.payload` in the state (webhook runs), else the raw payload file
    parsed as JSON; None when there is none."""
    trigger = state.get("trigger")
    if isinstance(trigger, dict) and trigger.get("payload") not in (None, "", {}):
        return trigger["payload"]
    path = os.environ.get("SCHEDULERD_PAYLOAD")
    if path and os.path.exists(path):
        with open(path, "rb") as f:
            raw = f.read()
        if raw.strip():
            try:
                return json.loads(raw)
            except ValueError:
                return raw.decode("utf-8", "replace")
    return None


def write_artifact(name, text):
    """Writes an artifact for the run; returns its name, or None when the script runs outside the daemon."""
    folder = os.environ.get("SCHEDULERD_ARTIFACTS")
    if not folder:
        log(f"SCHEDULERD_ARTIFACTS is not set; {name} not written")
        return None
    with open(os.path.join(folder, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return name


def fingerprint(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


# --- meter readings -----------------------------------------------------------------------------

class Hour:
    __slots__ = ("time", "meter", "total", "outdoor", "circuits", "problem")

    def __init__(self, time, meter, outdoor, circuits):
        self.time = time
        self.meter = meter
        self.outdoor = outdoor
        self.circuits = circuits
        circuit_sum = round(sum(circuits.values()), 2)
        self.problem = None
        if meter > MAX_HOURLY_KWH:
            self.problem = "implausible"
        elif abs(meter - circuit_sum) > 0.05:
            self.problem = "mismatch"
        # Analyses use the circuits when the meter total cannot be trusted.
        self.total = circuit_sum if self.problem else meter


def load_readings(path=READINGS_FILE):
    with span("load_readings", type="RETRIEVER", inputs={"file": os.path.basename(path)}) as s:
        hours = _read_readings(path)
        s.set_outputs({"hours": len(hours), "first": stamp(hours[0].time) if hours else None,
                       "last": stamp(hours[-1].time) if hours else None})
        return hours


def _read_readings(path):
    hours = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        index = {name: i for i, name in enumerate(header)}
        missing = [c for c in ("timestamp", "kwh", "outdoor_c") + CIRCUITS if c not in index]
        if missing:
            raise SystemExit(f"{path}: missing columns {', '.join(missing)}")
        for row in reader:
            hours.append(
                Hour(
                    dt.datetime.fromisoformat(row[index["timestamp"]]),
                    float(row[index["kwh"]]),
                    float(row[index["outdoor_c"]]),
                    {c: float(row[index[c]]) for c in CIRCUITS},
                )
            )
    return hours


def integrity(hours):
    """Gaps, duplicates, out-of-order rows, implausible and mismatched totals, negative values."""
    gaps, duplicates, disorder = [], 0, 0
    seen = set()
    for prev, cur in zip(hours, hours[1:]):
        step = (cur.time - prev.time).total_seconds() / 3600
        if step > 1:
            gaps.append({"after": stamp(prev.time), "missing_hours": int(step) - 1})
        elif step <= 0:
            disorder += 1
    for h in hours:
        if h.time in seen:
            duplicates += 1
        seen.add(h.time)
    first, last = hours[0].time, hours[-1].time
    expected = int((last - first).total_seconds() // 3600) + 1
    return {
        "rows": len(hours),
        "expected_rows": expected,
        "first": stamp(first),
        "last": stamp(last),
        "gaps": gaps,
        "missing_hours": sum(g["missing_hours"] for g in gaps),
        "duplicates": duplicates,
        "out_of_order": disorder,
        "implausible": [{"at": stamp(h.time), "kwh": h.meter} for h in hours if h.problem == "implausible"],
        "mismatched": [{"at": stamp(h.time), "kwh": h.meter, "circuits": round(sum(h.circuits.values()), 2)}
                       for h in hours if h.problem == "mismatch"],
        "negative": sum(1 for h in hours if h.meter < 0 or min(h.circuits.values()) < 0),
    }


def stamp(time):
    return time.strftime("%Y-%m-%dT%H:%M")


class Day:
    __slots__ = ("date", "total", "circuits", "tmean", "tmin", "tmax", "hours", "hourly", "temps")

    def __init__(self, date):
        self.date = date
        self.total = 0.0
        self.circuits = {c: 0.0 for c in CIRCUITS}
        self.hours = 0
        self.hourly = [None] * 24
        self.tmean = self.tmin = self.tmax = None
        self.temps = []

    @property
    def weekend(self):
        return self.date.weekday() >= 5


def by_day(hours):
    days = {}
    temps = {}
    for h in hours:
        d = days.get(h.time.date())
        if d is None:
            d = days[h.time.date()] = Day(h.time.date())
            temps[d.date] = []
        d.total += h.total
        for c in CIRCUITS:
            d.circuits[c] += h.circuits[c]
        d.hours += 1
        d.hourly[h.time.hour] = h.total
        temps[d.date].append(h.outdoor)
    for d in days.values():
        t = temps[d.date]
        d.temps = t
        d.tmean, d.tmin, d.tmax = sum(t) / len(t), min(t), max(t)
        if d.hours < 24:  # scale up a day with missing hours so that it compares with the others
            d.total *= 24 / d.hours
            d.circuits = {c: v * 24 / d.hours for c, v in d.circuits.items()}
    return [days[k] for k in sorted(days)]


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def by_month(days):
    months = {}
    for d in days:
        key = d.date.strftime("%Y-%m")
        m = months.setdefault(key, {"total": 0.0, "days": 0, **{c: 0.0 for c in CIRCUITS}})
        m["total"] += d.total
        m["days"] += 1
        for c in CIRCUITS:
            m[c] += d.circuits[c]
    return months


def price(hour, tariff=None):
    t = tariff or TARIFF
    offpeak = hour >= t["offpeak_from"] or hour < t["offpeak_until"]
    return t["offpeak_eur"] if offpeak else t["peak_eur"]


def is_quiet(hour):
    return hour >= QUIET_HOURS["from"] or hour < QUIET_HOURS["until"]


def cost(hours, tariff=None, circuit=None):
    if circuit:
        return sum(h.circuits[circuit] * price(h.time.hour, tariff) for h in hours)
    return sum(h.total * price(h.time.hour, tariff) for h in hours)


def last_days(hours, n):
    end = hours[-1].time.date()
    start = end - dt.timedelta(days=n - 1)
    return [h for h in hours if h.time.date() >= start]


def sessions(hours, circuit, threshold=0.3):
    """Runs of consecutive hours in which a circuit draws more than `threshold` kWh."""
    runs, current = [], None
    for h in hours:
        v = h.circuits[circuit]
        if v > threshold:
            if current and (h.time - current["last"]).total_seconds() == 3600:
                current["last"] = h.time
                current["kwh"] += v
                current["hours"].append(h)
            else:
                current = {"start": h.time, "last": h.time, "kwh": v, "hours": [h]}
                runs.append(current)
        else:
            current = None
    return runs


# --- statistics ---------------------------------------------------------------------------------

def median(values):
    s = sorted(values)
    if not s:
        return 0.0
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def mad_sigma(values):
    m = median(values)
    return 1.4826 * median([abs(v - m) for v in values])


def quantile(values, q):
    s = sorted(values)
    if not s:
        return 0.0
    pos = (len(s) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def solve(a, b):
    """Solves a x = b by Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            raise ValueError("singular system")
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                for k in range(col, n + 1):
                    m[r][k] -= f * m[col][k]
    return [m[i][n] / m[i][i] for i in range(n)]


def least_squares(rows, y):
    k = len(rows[0])
    ata = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    aty = [sum(r[i] * v for r, v in zip(rows, y)) for i in range(k)]
    return solve(ata, aty)


HEATING_SEASON_C = 15.5   # heating runs on days with a mean below this
HEATING_BASE_C = 18.0
COOLING_BASE_C = 22.0
MODEL_TERMS = ("base", "heating", "cooling", "weekend")


def heat_pump_cop(temp_c):
    """A typical air-source heat pump's efficiency at an outdoor temperature."""
    return min(4.5, max(2.0, 3.0 + 0.075 * temp_c))


def features(day):
    """Heating: degree hours below 18 °C divided by the heat pump's COP at each hour (heating season
    only); cooling: degree hours above 22 °C; both per day. Plus a weekend flag."""
    heating = 0.0
    if day.tmean < HEATING_SEASON_C:
        heating = sum(max(0.0, HEATING_BASE_C - t) / heat_pump_cop(t) for t in day.temps) / len(day.temps)
    cooling = sum(max(0.0, t - COOLING_BASE_C) for t in day.temps) / len(day.temps)
    return [1.0, heating, cooling, 1.0 if day.weekend else 0.0]


def weather_load(day):
    """What the weather model explains: everything but the car, which charges when it is plugged in."""
    return day.total - day.circuits["ev"]


def fit_model(days, rounds=3, cut=3.5):
    """Robust least squares of the daily non-EV load on heating and cooling degree days: refits
    without the days that the previous fit could not explain."""
    with span("fit_weather_model", type="CHAIN", inputs={"days": len(days), "rounds": rounds, "cut": cut}) as s:
        model = _fit_model(days, rounds, cut)
        s.set_outputs({k: v for k, v in model.items() if not k.startswith("_")})
        return model


def _fit_model(days, rounds, cut):
    used = list(days)
    coef, sigma = None, None
    for _ in range(rounds):
        coef = least_squares([features(d) for d in used], [weather_load(d) for d in used])
        residuals = [weather_load(d) - predict(coef, d) for d in days]
        sigma = max(0.5, mad_sigma(residuals))
        used = [d for d, r in zip(days, residuals) if abs(r) <= cut * sigma]
    y = [weather_load(d) for d in used]
    mean_y = sum(y) / len(y)
    ss_tot = sum((v - mean_y) ** 2 for v in y)
    ss_res = sum((weather_load(d) - predict(coef, d)) ** 2 for d in used)
    return {
        "coef": dict(zip(MODEL_TERMS, (round(c, 4) for c in coef))),
        "sigma_kwh": round(sigma, 2),
        "r2": round(1 - ss_res / ss_tot, 3) if ss_tot else 0.0,
        "days_used": len(used),
        "days_excluded": len(days) - len(used),
        # What the model means in plain numbers: a whole day at 0 °C, a whole day at 30 °C.
        "heating_kwh_day_at_0c": round(coef[1] * (HEATING_BASE_C - 0) / heat_pump_cop(0), 1),
        "cooling_kwh_day_at_30c": round(coef[2] * (30 - COOLING_BASE_C), 1),
        "_coef": coef,
    }


def predict(coef, day):
    if isinstance(coef, dict):
        coef = coef["_coef"]
    return sum(c * x for c, x in zip(coef, features(day)))


def episodes(days, model, threshold=3.5, max_gap=1):
    """Days whose non-EV load is more than `threshold` sigmas off the weather model, grouped into
    episodes (at most `max_gap` normal days in between), with the circuits that moved most."""
    sigma = model["sigma_kwh"]
    flagged = []
    for d in days:
        expected = predict(model, d)
        z = (weather_load(d) - expected) / sigma
        if abs(z) >= threshold:
            flagged.append((d, expected, z))
    found = []
    for d, expected, z in flagged:
        direction = "high" if z > 0 else "low"
        last = found[-1] if found else None
        if last and last["direction"] == direction and (d.date - last["_end"]).days <= max_gap + 1:
            last["_days"].append((d, expected, z))
            last["_end"] = d.date
        else:
            found.append({"direction": direction, "_days": [(d, expected, z)], "_end": d.date})
    by_date = {d.date: d for d in days}
    flagged_dates = {d.date for d, _, _ in flagged}
    result = []
    for e in found:
        members = e["_days"]
        start, end = members[0][0].date, members[-1][0].date
        # Each circuit against its median over the four weeks before the episode.
        reference = [by_date[start - dt.timedelta(days=k)] for k in range(1, 29)
                     if start - dt.timedelta(days=k) in by_date and start - dt.timedelta(days=k) not in flagged_dates]
        if len(reference) < 7:
            reference = [d for d in days if d.date not in flagged_dates]
        moves = {}
        for c in CIRCUITS:
            typical = median([r.circuits[c] for r in reference])
            moves[c] = round(sum(m[0].circuits[c] - typical for m in members), 1)
        ranked = sorted(moves.items(), key=lambda kv: -abs(kv[1]))
        actual = sum(weather_load(m[0]) for m in members)
        expected = sum(m[1] for m in members)
        peak = max(members, key=lambda m: abs(m[2]))
        result.append({
            "start": start.isoformat(),
            "end": end.isoformat(),
            "days": len(members),
            "direction": e["direction"],
            "kwh": round(actual, 1),
            "expected_kwh": round(expected, 1),
            "excess_kwh": round(actual - expected, 1),
            "max_z": round(peak[2], 1),
            "circuit": ranked[0][0],
            "circuit_change_kwh": ranked[0][1],
            "circuits": dict(ranked[:3]),
            "mean_outdoor_c": round(sum(m[0].tmean for m in members) / len(members), 1),
        })
    return result


def drifts(days, recent=30, reference=90, ratio=1.5, min_kwh=0.5):
    """Circuits (not weather-driven ones) whose daily mean over the last `recent` days is `ratio`
    times that of the `reference` days before."""
    if len(days) < recent + reference:
        return []
    last, before = days[-recent:], days[-(recent + reference):-recent]
    found = []
    for c in CIRCUITS:
        if c in WEATHER_CIRCUITS:
            continue
        now = sum(d.circuits[c] for d in last) / recent
        then = sum(d.circuits[c] for d in before) / reference
        if then > 0 and now / then >= ratio and now - then >= min_kwh:
            # When it started: the first day from which the 7-day mean stays above the midpoint.
            series = days[-(recent + reference):]
            mid = (now + then) / 2
            since = None
            for i in range(len(series) - 7, -1, -1):
                if sum(d.circuits[c] for d in series[i:i + 7]) / 7 >= mid:
                    since = series[i].date
                else:
                    break
            found.append({
                "circuit": c,
                "recent_kwh_per_day": round(now, 2),
                "before_kwh_per_day": round(then, 2),
                "ratio": round(now / then, 2),
                "extra_kwh_per_year": round((now - then) * 365),
                "since": since.isoformat() if since else None,
            })
    return found


# --- devices ------------------------------------------------------------------------------------

def load_devices(path=DEVICES_FILE):
    with span("load_devices", type="RETRIEVER", inputs={"file": os.path.basename(path)}) as s:
        devices = _read_devices(path)
        s.set_outputs({"devices": len(devices)})
        return devices


def _read_devices(path):
    devices = []
    with open(path, newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            row["line"] = line
            for key in ("rated_w", "standby_w", "installed"):
                row[key] = int(row[key]) if row[key] else 0
            row["battery_pct"] = int(row["battery_pct"]) if row["battery_pct"] else None
            row["power"] = "battery" if row["battery_pct"] is not None else "mains"
            devices.append(row)
    return devices


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_firmware():
    return load_json(FIRMWARE_FILE)["models"]


def load_automations():
    return load_json(AUTOMATIONS_FILE)["automations"]


def version(text):
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return ()


def inventory_as_of(devices):
    return max(dt.datetime.fromisoformat(d["last_seen"]) for d in devices)


def hours_since(device, now):
    return round((now - dt.datetime.fromisoformat(device["last_seen"])).total_seconds() / 3600, 1)


def find_devices(devices, words):
    """Devices whose id, name, kind or room matches one of `words` (lowercase)."""
    hits = []
    for d in devices:
        text = " ".join([d["id"], d["name"], d["kind"], d["room"]]).lower()
        if any(w in text for w in words):
            hits.append(d)
    return hits


def hhmm(text):
    """'23:30' -> (23, 30); raises ValueError otherwise."""
    hour, minute = text.strip().split(":")
    hour, minute = int(hour), int(minute)
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(text)
    return hour, minute


# --- charts -------------------------------------------------------------------------------------

def esc(text):
    return html.escape(str(text), quote=True)


def nice_max(value):
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def svg_stacked_bars(title, labels, series, unit, width=760, height=360, colors=None):
    """Vertical bars, one per label, stacked from `series` (name -> values)."""
    colors = colors or COLORS
    left, right, top, bottom = 56, 150, 36, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(series[s][i] for s in series) for i in range(len(labels))]
    top_value = nice_max(max(totals) if totals else 1)
    slot = plot_w / max(1, len(labels))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="20" font-size="14" font-weight="bold">{esc(title)}</text>']
    for k in range(5):
        v = top_value * k / 4
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    out.append(f'<text x="14" y="{top + plot_h / 2:.0f}" transform="rotate(-90 14 {top + plot_h / 2:.0f})" '
               f'text-anchor="middle">{esc(unit)}</text>')
    for i, label in enumerate(labels):
        x = left + i * slot + slot * 0.15
        y = top + plot_h
        for name in series:
            v = series[name][i]
            h = plot_h * v / top_value
            y -= h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                       f'fill="{colors.get(name, "#777")}"><title>{esc(label)} {esc(name)}: {v:.0f} {esc(unit)}</title></rect>')
        out.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{esc(label)}</text>')
        out.append(f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle" fill="#444">{totals[i]:.0f}</text>')
    for k, name in enumerate(series):
        y = top + 10 + k * 18
        out.append(f'<rect x="{left + plot_w + 16}" y="{y - 9}" width="12" height="12" fill="{colors.get(name, "#777")}"/>')
        out.append(f'<text x="{left + plot_w + 34}" y="{y + 1}">{esc(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def svg_hbars(title, items, unit, width=460, height=None, color="#337ab7"):
    """Horizontal bars for (label, value) pairs."""
    height = height or 48 + 24 * len(items)
    left, right = 150, 70
    plot_w = width - left - right
    top_value = nice_max(max((v for _, v in items), default=1))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<text x="8" y="18" font-size="14" font-weight="bold">{esc(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = 34 + i * 24
        w = plot_w * value / top_value
        out.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{esc(label)}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="16" fill="{color}"/>')
        out.append(f'<text x="{left + w + 4:.1f}" y="{y + 12}">{value:.1f} {esc(unit)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def svg_lines(title, labels, series, unit, width=460, height=240, colors=None):
    """Lines over the same x labels; `series` maps a name to its values."""
    colors = colors or {}
    palette = ["#d9534f", "#337ab7", "#5cb85c", "#f0ad4e"]
    left, right, top, bottom = 44, 12, 30, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_max(max((max(v) for v in series.values() if v), default=1))
    n = max(len(labels) - 1, 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<text x="8" y="18" font-size="14" font-weight="bold">{esc(title)}</text>']
    for k in range(5):
        v = top_value * k / 4
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    step = max(1, len(labels) // 8)
    for i in range(0, len(labels), step):
        x = left + plot_w * i / n
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{esc(labels[i])}</text>')
    for k, (name, values) in enumerate(series.items()):
        color = colors.get(name, palette[k % len(palette)])
        points = " ".join(f"{left + plot_w * i / n:.1f},{top + plot_h - plot_h * v / top_value:.1f}"
                          for i, v in enumerate(values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{left + 10 + k * 150}" y="{height - 8}" fill="{color}">■ {esc(name)} ({esc(unit)})</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- inventory checks ---------------------------------------------------------------------------

NEW_WITHIN_DAYS = 7
LOW_BATTERY_PCT = 20
OLD_BEFORE_YEAR = 2013
# What a current appliance of the same kind uses in a year (kWh), for replacement estimates.
MODERN_KWH_YEAR = {"fridge": 150, "freezer": 170, "dryer": 180}


def duplicate_ids(devices):
    seen = {}
    for d in devices:
        seen.setdefault(d["id"], []).append(d)
    return [{"id": i, "devices": [f'{d["name"]} ({d["room"] or "no room"}, line {d["line"]})' for d in ds]}
            for i, ds in seen.items() if len(ds) > 1]


def new_devices(devices, now):
    since = now - dt.timedelta(days=NEW_WITHIN_DAYS)
    return [{"id": d["id"], "name": d["name"], "room": d["room"], "kind": d["kind"], "first_seen": d["first_seen"],
             "unassigned": not d["room"]}
            for d in devices if dt.datetime.fromisoformat(d["first_seen"]) >= since]


def stale_devices(devices, now):
    found = []
    for d in devices:
        if d["protocol"] == "none":
            continue  # not connected: nothing to hear from
        age = hours_since(d, now)
        limit = STALE_AFTER_H[d["power"]]
        if age > limit:
            found.append({"id": d["id"], "name": d["name"], "kind": d["kind"], "power": d["power"],
                          "last_seen": d["last_seen"], "hours_silent": age, "limit_h": limit,
                          "critical": d["kind"] in CRITICAL_KINDS})
    return sorted(found, key=lambda x: -x["hours_silent"])


def low_batteries(devices):
    return [{"id": d["id"], "name": d["name"], "battery_pct": d["battery_pct"], "critical": d["kind"] in CRITICAL_KINDS}
            for d in devices if d["battery_pct"] is not None and d["battery_pct"] < LOW_BATTERY_PCT]


def outdated_firmware(devices, catalog):
    found, unknown = [], []
    for d in devices:
        if not d["firmware"]:
            continue
        entry = catalog.get(d["model"])
        if entry is None:
            unknown.append(d["id"])
            continue
        if version(d["firmware"]) < version(entry["latest"]):
            found.append({"id": d["id"], "name": d["name"], "model": d["model"], "installed": d["firmware"],
                          "latest": entry["latest"], "security": bool(entry.get("security")),
                          "note": entry.get("note", "")})
    found.sort(key=lambda x: (not x["security"], x["id"]))
    return found, unknown


def old_appliances(devices, year_days=None):
    """Old appliances with a big draw or standby, with what they use in a year and what a new one would.
    `year_days` (the readings by day) gives the measured use of circuits that carry one appliance."""
    measured = {}
    if year_days:
        for c in CIRCUITS:
            measured[c] = sum(d.circuits[c] for d in year_days) * 365 / len(year_days)
    found = []
    for d in devices:
        if d["installed"] >= OLD_BEFORE_YEAR or (d["rated_w"] < 100 and d["standby_w"] < 5):
            continue
        if d["kind"] == "fridge" and "fridge" in measured:
            use, how = measured["fridge"], "measured on its own circuit"
        elif d["kind"] == "dryer" and "laundry" in measured:
            use, how = measured["laundry"] * 0.6, "about 60 % of the laundry circuit"
        else:
            use, how = d["rated_w"] * 0.3 * 8760 / 1000, "rated power at a 30 % duty cycle"
        modern = MODERN_KWH_YEAR.get(d["kind"], use * 0.6)
        found.append({"id": d["id"], "name": d["name"], "kind": d["kind"], "installed": d["installed"],
                      "kwh_year": round(use), "estimate": how, "modern_kwh_year": round(modern),
                      "saving_kwh_year": round(max(0.0, use - modern)), "standby_w": d["standby_w"]})
    return sorted(found, key=lambda x: -x["saving_kwh_year"])


def standby_kwh_year(devices):
    return round(sum(d["standby_w"] for d in devices) * 8760 / 1000)


# --- automation rules (used by review, automation_builder and conversation) ---------------------

STARTING_SERVICES = {"turn_on", "start_charging", "start_program"}
RUNTIME_H = {"washer": 2, "dryer": 2, "dishwasher": 2, "ev_charger": 2, "oven": 1}


def start_hour(automation):
    trigger = automation.get("trigger") or {}
    if trigger.get("type") != "time" or not trigger.get("at"):
        return None
    return hhmm(trigger["at"])[0]


def device_by_id(devices, device_id):
    matches = [d for d in devices if d["id"] == device_id]
    return matches[0] if len(matches) == 1 else None


def rule_quiet_hours(automation, devices):
    device = device_by_id(devices, automation.get("device_id"))
    service = (automation.get("action") or {}).get("service", "")
    hour = start_hour(automation)
    result = {"rule": "quiet_hours", "ok": True,
              "quiet": f'{QUIET_HOURS["from"]:02d}:00-{QUIET_HOURS["until"]:02d}:00'}
    if hour is None:
        result["detail"] = "no fixed start time (event trigger): nothing to check"
    elif device is None or device["kind"] not in NOISY_KINDS:
        result["detail"] = f'{automation.get("device_id")} is not a noisy appliance'
    elif service not in STARTING_SERVICES:
        result["detail"] = f"{service} does not start the {device['kind']}"
    else:
        run = [(hour + k) % 24 for k in range(RUNTIME_H.get(device["kind"], 1))]
        loud = [h for h in run if is_quiet(h)]
        if loud:
            result["ok"] = False
            result["detail"] = (f'the {device["kind"]} would run from {automation["trigger"]["at"]} for about '
                                f'{len(run)} h, inside quiet hours {result["quiet"]}')
        else:
            result["detail"] = f'the {device["kind"]} finishes by {(run[-1] + 1) % 24:02d}:00, before quiet hours'
    return result


def rule_device(automation, devices, catalog, now):
    device_id = automation.get("device_id")
    service = (automation.get("action") or {}).get("service", "")
    matches = [d for d in devices if d["id"] == device_id]
    problems, warnings = [], []
    summary = None
    if not matches:
        problems.append(f"no device {device_id!r} in the inventory")
    elif len(matches) > 1:
        problems.append(f"{len(matches)} devices share the id {device_id!r} "
                        f"({', '.join(d['name'] for d in matches)}): the automation would hit the wrong one")
    else:
        d = matches[0]
        age = hours_since(d, now)
        summary = {"id": d["id"], "name": d["name"], "kind": d["kind"], "room": d["room"],
                   "firmware": d["firmware"], "hours_silent": age}
        if d["protocol"] == "none":
            problems.append(f"{d['name']} has no radio and cannot be switched; put it on a smart plug")
        elif age > STALE_AFTER_H[d["power"]]:
            problems.append(f"{d['name']} has not reported for {age:.0f} h (last seen {d['last_seen']})")
        if d["kind"] in CRITICAL_KINDS and service in ("turn_off", "set_temperature", "pause"):
            problems.append(f"{d['name']} is a critical device ({d['kind']}): changing it by automation needs a "
                            f"person to sign off")
        entry = catalog.get(d["model"])
        if entry and d["firmware"] and version(d["firmware"]) < version(entry["latest"]):
            text = f"firmware {d['firmware']} is behind {entry['latest']}"
            if entry.get("security"):
                text += f" (security fix: {entry.get('note', 'see release notes')}); update it first"
            warnings.append(text)
        if d["battery_pct"] is not None and d["battery_pct"] < LOW_BATTERY_PCT:
            warnings.append(f"battery at {d['battery_pct']} %")
    return {"rule": "device", "ok": not problems, "device": summary, "problems": problems, "warnings": warnings,
            "detail": "; ".join(problems) if problems else (f"{device_id} is known, unique and online"
                                                            + (f" ({'; '.join(warnings)})" if warnings else ""))}


def rule_power_budget(automation, devices, automations, hours, window_days=60):
    device = device_by_id(devices, automation.get("device_id"))
    action = automation.get("action") or {}
    hour = start_hour(automation)
    result = {"rule": "power_budget", "ok": True, "budget_kw": POWER_BUDGET_KW}
    if hour is None or action.get("service") not in STARTING_SERVICES:
        result["detail"] = "does not start a load at a fixed time: nothing to add up"
        return result
    draw = float(action.get("power_kw") or ((device or {}).get("rated_w", 0) / 1000))
    circuit = (device or {}).get("circuit")
    recent = [h for h in last_days(hours, window_days) if h.time.hour == hour]
    base = [h.total - (h.circuits.get(circuit, 0.0) if circuit else 0.0) for h in recent]
    household = quantile(base, 0.95)
    others = []
    for a in automations:
        if not a.get("enabled", True) or a.get("device_id") == automation.get("device_id"):
            continue
        if a.get("replaced_by") or (a.get("action") or {}).get("service") not in STARTING_SERVICES:
            continue
        h = start_hour(a)
        if h is None:
            continue
        other = device_by_id(devices, a["device_id"])
        span = RUNTIME_H.get((other or {}).get("kind"), 1)
        if hour in [(h + k) % 24 for k in range(span)]:
            others.append({"id": a["id"], "kw": round((other or {}).get("rated_w", 0) / 1000, 2)})
    total = household + draw + sum(o["kw"] for o in others)
    result.update({
        "hour": f"{hour:02d}:00",
        "household_p95_kw": round(household, 2),
        "device_kw": round(draw, 2),
        "other_automations": others,
        "total_kw": round(total, 2),
        "headroom_kw": round(POWER_BUDGET_KW - total, 2),
        "ok": total <= POWER_BUDGET_KW,
    })
    result["detail"] = (f"{total:.1f} kW at {hour:02d}:00 (household p95 {household:.1f} + device {draw:.1f}"
                        + "".join(f" + {o['id']} {o['kw']:.1f}" for o in others)
                        + f") {'within' if result['ok'] else 'over'} the {POWER_BUDGET_KW} kW budget")
    return result


def rule_conflicts(automation, automations):
    clashes = []
    hour = start_hour(automation)
    for a in automations:
        if a.get("id") == automation.get("id") or not a.get("enabled", True):
            continue
        if a.get("device_id") != automation.get("device_id") or automation.get("replaces") == a.get("id"):
            continue
        h = start_hour(a)
        if hour is None or h is None or h == hour:
            clashes.append(a["id"])
    return {"rule": "conflicts", "ok": not clashes, "conflicts": clashes,
            "detail": (f"also driven by {', '.join(clashes)}" if clashes else "no other automation drives this device")}


# --- household behaviour ------------------------------------------------------------------------

def away_periods(days, min_days=2, kitchen_kwh=0.3):
    """Runs of days without cooking: nobody home."""
    runs, current = [], None
    for d in days:
        if d.circuits["kitchen"] < kitchen_kwh:
            if current and (d.date - current[-1].date).days == 1:
                current.append(d)
            else:
                current = [d]
                runs.append(current)
        else:
            current = None
    return [{"start": r[0].date.isoformat(), "end": r[-1].date.isoformat(), "days": len(r),
             "kwh": round(sum(d.total for d in r), 1), "ac_kwh": round(sum(d.circuits["ac"] for d in r), 1),
             "heat_pump_kwh": round(sum(d.circuits["heat_pump"] for d in r), 1)}
            for r in runs if len(r) >= min_days]


def behavior(hours, window_days=90, tariff=None):
    """The household's routines over the last `window_days` days, in numbers."""
    tariff = tariff or TARIFF
    recent = last_days(hours, window_days)
    scale = 365 / window_days
    by_hour = [[] for _ in range(24)]
    for h in recent:
        by_hour[h.time.hour].append(h.total)
    profile = [round(sum(v) / len(v), 3) if v else 0.0 for v in by_hour]
    total = sum(h.total for h in recent)
    peak_kwh = sum(h.total for h in recent if price(h.time.hour, tariff) == tariff["peak_eur"])

    ev = sessions(recent, "ev")
    ev_peak = sum(h.circuits["ev"] for s in ev for h in s["hours"] if price(h.time.hour, tariff) == tariff["peak_eur"])
    ev_starts = {}
    for s in ev:
        ev_starts[f"{s['start'].hour:02d}"] = ev_starts.get(f"{s['start'].hour:02d}", 0) + 1

    laundry = sessions(recent, "laundry")
    into_quiet = [s for s in laundry if is_quiet(s["last"].hour)]
    laundry_starts = {}
    for s in laundry:
        laundry_starts[f"{s['start'].hour:02d}"] = laundry_starts.get(f"{s['start'].hour:02d}", 0) + 1

    standby = {}
    for c in CIRCUITS:
        night = [h.circuits[c] for h in recent if 2 <= h.time.hour <= 4]
        standby[c] = round(median(night) * 1000)  # W
    days = by_day(hours)
    recent_days = days[-window_days:]
    weekday = [weather_load(d) for d in recent_days if not d.weekend]
    weekend = [weather_load(d) for d in recent_days if d.weekend]
    hp = sum(h.circuits["heat_pump"] for h in recent)
    hp_night = sum(h.circuits["heat_pump"] for h in recent if h.time.hour >= 22 or h.time.hour < 6)
    return {
        "window": {"from": recent[0].time.date().isoformat(), "to": recent[-1].time.date().isoformat(),
                   "days": window_days},
        "profile_kwh_by_hour": profile,
        "evening_peak": {"hour": f"{profile.index(max(profile)):02d}:00", "kwh": round(max(profile), 2)},
        "peak_tariff_share": round(peak_kwh / total, 3) if total else 0.0,
        "ev": {
            "sessions": len(ev),
            "per_week": round(len(ev) * 7 / window_days, 1),
            "kwh_per_session": round(median([s["kwh"] for s in ev]), 1) if ev else 0.0,
            "kwh_year": round(sum(s["kwh"] for s in ev) * scale),
            "peak_kwh_year": round(ev_peak * scale),
            "start_hours": dict(sorted(ev_starts.items())),
            "started_before_22": sum(1 for s in ev if s["start"].hour < tariff["offpeak_from"]
                                     and s["start"].hour >= tariff["offpeak_until"]),
        },
        "laundry": {
            "sessions": len(laundry),
            "per_week": round(len(laundry) * 7 / window_days, 1),
            "weekday": sum(1 for s in laundry if s["start"].weekday() < 5),
            "start_hours": dict(sorted(laundry_starts.items())),
            "ending_in_quiet_hours": len(into_quiet),
            "kwh_year": round(sum(s["kwh"] for s in laundry) * scale),
        },
        "standby_w": standby,
        "away": away_periods(days),
        "daily_non_ev_kwh": {"weekday": round(sum(weekday) / max(1, len(weekday)), 1),
                             "weekend": round(sum(weekend) / max(1, len(weekend)), 1)},
        "heat_pump_night_share": round(hp_night / hp, 3) if hp else 0.0,
    }
