"""The blocking subsystems: each method is the async one (same parameters, result and
errors), run on the client's loop. ``msd.iter_download`` and ``system.stream_log`` are
generators; ``progress`` callbacks run on the loop's thread."""

from __future__ import annotations

from ..resources import atx as _atx
from ..resources import auth as _auth
from ..resources import gpio as _gpio
from ..resources import hid as _hid
from ..resources import msd as _msd
from ..resources import prometheus as _prometheus
from ..resources import redfish as _redfish
from ..resources import streamer as _streamer
from ..resources import switch as _switch
from ..resources import system as _system
from ._wrap import Blocking, Iterating, Wrapper


class Atx(Wrapper[_atx.Atx]):
    """The blocking :class:`aiopikvm.resources.atx.Atx` (``kvm.atx``)."""

    click_power = Blocking(_atx.Atx.click_power)
    click_power_long = Blocking(_atx.Atx.click_power_long)
    click_reset = Blocking(_atx.Atx.click_reset)
    get_state = Blocking(_atx.Atx.get_state)
    power_off = Blocking(_atx.Atx.power_off)
    power_off_hard = Blocking(_atx.Atx.power_off_hard)
    power_on = Blocking(_atx.Atx.power_on)
    reset_hard = Blocking(_atx.Atx.reset_hard)


class Auth(Wrapper[_auth.Auth]):
    """The blocking :class:`aiopikvm.resources.auth.Auth` (``kvm.auth``)."""

    check = Blocking(_auth.Auth.check)
    login = Blocking(_auth.Auth.login)
    logout = Blocking(_auth.Auth.logout)


class Gpio(Wrapper[_gpio.Gpio]):
    """The blocking :class:`aiopikvm.resources.gpio.Gpio` (``kvm.gpio``)."""

    get_state = Blocking(_gpio.Gpio.get_state)
    pulse = Blocking(_gpio.Gpio.pulse)
    switch = Blocking(_gpio.Gpio.switch)


class Hid(Wrapper[_hid.Hid]):
    """The blocking :class:`aiopikvm.resources.hid.Hid` (``kvm.hid``)."""

    get_inactivity = Blocking(_hid.Hid.get_inactivity)
    get_keymaps = Blocking(_hid.Hid.get_keymaps)
    get_state = Blocking(_hid.Hid.get_state)
    reset = Blocking(_hid.Hid.reset)
    send_key = Blocking(_hid.Hid.send_key)
    send_mouse_button = Blocking(_hid.Hid.send_mouse_button)
    send_mouse_move = Blocking(_hid.Hid.send_mouse_move)
    send_mouse_relative = Blocking(_hid.Hid.send_mouse_relative)
    send_mouse_wheel = Blocking(_hid.Hid.send_mouse_wheel)
    send_shortcut = Blocking(_hid.Hid.send_shortcut)
    set_connected = Blocking(_hid.Hid.set_connected)
    set_params = Blocking(_hid.Hid.set_params)
    type_text = Blocking(_hid.Hid.type_text)


class Msd(Wrapper[_msd.Msd]):
    """The blocking :class:`aiopikvm.resources.msd.Msd` (``kvm.msd``)."""

    download = Blocking(_msd.Msd.download)
    get_state = Blocking(_msd.Msd.get_state)
    iter_download = Iterating(_msd.Msd.iter_download)
    remove = Blocking(_msd.Msd.remove)
    reset = Blocking(_msd.Msd.reset)
    set_connected = Blocking(_msd.Msd.set_connected)
    set_params = Blocking(_msd.Msd.set_params)
    upload = Blocking(_msd.Msd.upload)
    upload_remote = Blocking(_msd.Msd.upload_remote)
    wait_for_image = Blocking(_msd.Msd.wait_for_image)


class Prometheus(Wrapper[_prometheus.Prometheus]):
    """The blocking :class:`aiopikvm.resources.prometheus.Prometheus` (``kvm.prometheus``)."""

    get_metrics = Blocking(_prometheus.Prometheus.get_metrics)
    get_samples = Blocking(_prometheus.Prometheus.get_samples)


class Redfish(Wrapper[_redfish.Redfish]):
    """The blocking :class:`aiopikvm.resources.redfish.Redfish` (``kvm.redfish``)."""

    eject_media = Blocking(_redfish.Redfish.eject_media)
    get_manager = Blocking(_redfish.Redfish.get_manager)
    get_managers = Blocking(_redfish.Redfish.get_managers)
    get_root = Blocking(_redfish.Redfish.get_root)
    get_system = Blocking(_redfish.Redfish.get_system)
    get_systems = Blocking(_redfish.Redfish.get_systems)
    get_virtual_media = Blocking(_redfish.Redfish.get_virtual_media)
    get_virtual_media_collection = Blocking(_redfish.Redfish.get_virtual_media_collection)
    insert_media = Blocking(_redfish.Redfish.insert_media)
    patch_system = Blocking(_redfish.Redfish.patch_system)
    reset_system = Blocking(_redfish.Redfish.reset_system)


class Streamer(Wrapper[_streamer.Streamer]):
    """The blocking :class:`aiopikvm.resources.streamer.Streamer` (``kvm.streamer``)."""

    delete_snapshot = Blocking(_streamer.Streamer.delete_snapshot)
    get_ocr_info = Blocking(_streamer.Streamer.get_ocr_info)
    get_state = Blocking(_streamer.Streamer.get_state)
    ocr = Blocking(_streamer.Streamer.ocr)
    reset = Blocking(_streamer.Streamer.reset)
    set_params = Blocking(_streamer.Streamer.set_params)
    snapshot = Blocking(_streamer.Streamer.snapshot)


class Switch(Wrapper[_switch.Switch]):
    """The blocking :class:`aiopikvm.resources.switch.Switch` (``kvm.switch``)."""

    atx_click = Blocking(_switch.Switch.atx_click)
    atx_power = Blocking(_switch.Switch.atx_power)
    change_edid = Blocking(_switch.Switch.change_edid)
    create_edid = Blocking(_switch.Switch.create_edid)
    get_state = Blocking(_switch.Switch.get_state)
    remove_edid = Blocking(_switch.Switch.remove_edid)
    reset = Blocking(_switch.Switch.reset)
    set_active = Blocking(_switch.Switch.set_active)
    set_active_next = Blocking(_switch.Switch.set_active_next)
    set_active_prev = Blocking(_switch.Switch.set_active_prev)
    set_beacon = Blocking(_switch.Switch.set_beacon)
    set_colors = Blocking(_switch.Switch.set_colors)
    set_port_params = Blocking(_switch.Switch.set_port_params)


class System(Wrapper[_system.System]):
    """The blocking :class:`aiopikvm.resources.system.System` (``kvm.system``)."""

    get_info = Blocking(_system.System.get_info)
    get_log = Blocking(_system.System.get_log)
    stream_log = Iterating(_system.System.stream_log)
