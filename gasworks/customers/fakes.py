"""Believable Chinese names, phones and addresses for demo and benchmark data (deterministic)."""

import random

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉鹏宇浩鑫晨欣怡子涵雨轩梓豪佳琪博宁海燕凤春梅丹雪琳"
DISTRICTS = ["朝阳区", "海淀区", "丰台区", "东城区", "西城区", "通州区", "昌平区", "大兴区"]
STREETS = [
    "望京街道",
    "和平里街道",
    "安贞街道",
    "学院路街道",
    "卢沟桥街道",
    "永定路街道",
    "回龙观街道",
    "天通苑街道",
    "亦庄镇",
    "梨园镇",
]
SHOP_KINDS = ["餐馆", "面馆", "酒楼", "烧烤店", "包子铺", "食堂", "火锅店", "茶餐厅"]
FACTORY_KINDS = ["食品厂", "印染厂", "陶瓷厂", "热力站", "机械厂", "玻璃厂"]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def business_name(rng: random.Random, category: str) -> str:
    kinds = SHOP_KINDS if category == "commercial" else FACTORY_KINDS
    return (
        f"{rng.choice(SURNAMES)}记{rng.choice(kinds)}"
        if category == "commercial"
        else f"北京{rng.choice(GIVEN)}{rng.choice(GIVEN)}{rng.choice(kinds)}有限公司"
    )


def phone(rng: random.Random) -> str:
    return (
        rng.choice(("138", "139", "135", "136", "150", "186", "188", "177")) + f"{rng.randrange(10**8):08d}"
    )


def address(rng: random.Random) -> tuple[str, str]:
    district = rng.choice(DISTRICTS)
    text = (
        f"北京市{district}{rng.choice(STREETS)}{rng.randint(1, 40)}号院"
        f"{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"
    )
    return text, district


def category(rng: random.Random) -> str:
    roll = rng.random()
    return "residential" if roll < 0.9 else "commercial" if roll < 0.98 else "industrial"
