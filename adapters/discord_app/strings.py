"""Discord-only user-visible strings (voice channels, pickers), English and Simplified Chinese.

The core catalogue (bot/i18n) wins whenever it has the key, so these can move there unchanged.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import CATALOGS, normalise_locale, t

EN: dict[str, str] = {
    "cmd.join": "Join your voice channel",
    "cmd.leave": "Leave the voice channel",
    "cmd.speak": "Speak text in your voice channel",
    "cmd.skip": "Skip what is playing now",
    "cmd.stop": "Stop playing and clear the queue",
    "cmd.autoread": "Read this channel's new messages aloud in the voice channel",
    "arg.mode": "on or off",
    "group.voice": "Voice details, cloning, styles, avatars, sharing and deleting",
    "discord.speak_message": "Speak this message",
    "discord.guild_only": "This only works in a server.",
    "discord.not_in_voice": "Join a voice channel first, then try again.",
    "discord.missing_perms": "I can't speak in {channel}: I'm missing the {perms} permission.",
    "discord.voice_unavailable": "Voice channels are unavailable on this bot ({reason}).",
    "discord.joined": "Joined {channel}. Use /speak, or /autoread on to read a channel aloud.",
    "discord.left": "Left the voice channel.",
    "discord.not_connected": "I'm not in a voice channel here. Use /join first.",
    "discord.playing": "Speaking in {channel}.",
    "discord.queued": "Queued in {channel} ({ahead} ahead).",
    "discord.skipped": "Skipped.",
    "discord.nothing_playing": "Nothing is playing.",
    "discord.stopped": "Stopped and cleared the queue.",
    "discord.autoread_on": "I'll read new messages in {channel} aloud while I'm in voice.",
    "discord.autoread_off": "I'll no longer read {channel} aloud.",
    "discord.not_yours": "Only the person who ran the command can answer this.",
    "discord.expired": "This question has expired.",
    "discord.page": "Page {page}/{pages}",
    "discord.previous": "Previous",
    "discord.next": "Next",
    "discord.pick": "Choose…",
    "discord.secret_title": "/{command}",
    "discord.secret_hint": "Only you and the bot see what you type here.",
}

ZH: dict[str, str] = {
    "cmd.join": "加入你所在的语音频道",
    "cmd.leave": "离开语音频道",
    "cmd.speak": "在你的语音频道里朗读文字",
    "cmd.skip": "跳过正在播放的内容",
    "cmd.stop": "停止播放并清空队列",
    "cmd.autoread": "在语音频道里朗读本频道的新消息",
    "arg.mode": "on（开）或 off（关）",
    "group.voice": "声音详情、克隆、风格、头像、分享与删除",
    "discord.speak_message": "朗读这条消息",
    "discord.guild_only": "这个命令只能在服务器里使用。",
    "discord.not_in_voice": "请先加入一个语音频道，然后再试。",
    "discord.missing_perms": "我无法在 {channel} 说话：缺少 {perms} 权限。",
    "discord.voice_unavailable": "本机器人暂时无法使用语音频道（{reason}）。",
    "discord.joined": "已加入 {channel}。使用 /speak，或 /autoread on 朗读一个频道。",
    "discord.left": "已离开语音频道。",
    "discord.not_connected": "我不在这个服务器的语音频道里。请先使用 /join。",
    "discord.playing": "正在 {channel} 朗读。",
    "discord.queued": "已加入 {channel} 的队列（前面还有 {ahead} 条）。",
    "discord.skipped": "已跳过。",
    "discord.nothing_playing": "现在没有在播放。",
    "discord.stopped": "已停止并清空队列。",
    "discord.autoread_on": "我在语音频道时会朗读 {channel} 的新消息。",
    "discord.autoread_off": "我不再朗读 {channel}。",
    "discord.not_yours": "只有执行命令的人可以回答。",
    "discord.expired": "这个问题已过期。",
    "discord.page": "第 {page}/{pages} 页",
    "discord.previous": "上一页",
    "discord.next": "下一页",
    "discord.pick": "请选择…",
    "discord.secret_title": "/{command}",
    "discord.secret_hint": "只有你和机器人能看到这里输入的内容。",
}

LOCAL = {"en": EN, "zh": ZH}


def has(key: str) -> bool:
    """Whether `key` is known here or in the core catalogue."""
    return key in EN or key in CATALOGS["en"]


def text(locale: str | None, key: str, **params: Any) -> str:
    """The string for `key` in `locale`: the core catalogue first, then this module."""
    lang = normalise_locale(locale)
    if key in CATALOGS[lang] or key in CATALOGS["en"]:
        return t(locale, key, **params)
    template = LOCAL[lang].get(key) or EN.get(key) or key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template
