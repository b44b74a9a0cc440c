"""Fictional people for demos, tests and benchmarks: names, well-formed ID numbers, obviously fake phones.

ID numbers use the county's real area code (so they look like the county's), a birth date and sequence drawn
through a bijection of a counter (so a roster of any size has no duplicate), and a valid GB 11643 check
character. Phones are 138-0000-XXXX numbers: never a real person's, never one of the notices'.
"""

from __future__ import annotations

import datetime as dt
import random

from bot.store import ids

# Administrative area codes (行政区划代码) of the notices' jurisdictions.
AREA_CODES = {"陵川县": "140524", "罗山县": "411521", "乐至县": "512022", "周集镇": "341522"}

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴"
    "夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力宁振国春梅海燕志林晨阳欣怡雨涵子轩浩然"
    "思远佳琪梓萱宇航雅婷俊杰诗琪晓东立新保山德福秋菊冬梅润生永福淑珍凤英桂香金花")
_FIRST_BIRTH = dt.date(1930, 1, 1)
_LAST_BIRTH = dt.date(2024, 6, 30)
_DAYS = (_LAST_BIRTH - _FIRST_BIRTH).days + 1
_SPACE = _DAYS * 1000  # (birth date, 3-digit sequence) pairs
_STRIDE = 2_654_435_761  # coprime to _SPACE (a test checks), so the counter -> ID map is one-to-one


def fake_phone(n: int) -> str:
    """The n-th obviously fake mobile number: 13800000001, 13800000002, ..."""
    return f"1380000{n % 10_000:04d}"


class People:
    """A reproducible stream of fictional residents of one area (county area code)."""

    def __init__(self, area: str, seed: int = 0):
        self.area = area
        self.rng = random.Random(f"{area}:{seed}")
        self.offset = self.rng.randrange(_SPACE)
        self.count = 0

    def name(self) -> str:
        rng = self.rng
        given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
        return rng.choice(_SURNAMES) + given

    def id_number(self) -> str:
        """A new, never-repeated ID number of this area with a valid check character."""
        k = (self.count * _STRIDE + self.offset) % _SPACE
        self.count += 1
        day, sequence = divmod(k, 1000)
        return ids.make_id(self.area, _FIRST_BIRTH + dt.timedelta(days=day), sequence)
