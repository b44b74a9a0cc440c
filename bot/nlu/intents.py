"""Intent rules: small named objects (patterns + priority + an optional slot condition), one table.

Every rule that matches the normalised text is a candidate; the highest priority wins, and among equals
the one whose pattern matches earliest. A new intent, or a new way of asking, is one entry in `RULES`.

Precedence, highest first (why, where it is not obvious):
  REMINDERS 96-97, UNBIND 95, BIND 90 .. account commands are unambiguous (订阅提醒 / 退订提醒, 到时候提醒我一下;
                                         stopping one, 别再推提醒了, outranks asking for one; asked about,
                                         有交费提醒吗, 94: explained)
  ENROLMENT_REWARD 89 .................. 连续参保/零报销 raising the 大病保险 limit is ours, unlike 大病保险 86
  OUT_OF_SCOPE 86-88 ................... 养老保险交了吗 is about pensions even though it says 交了吗
  CHANNELS (an agent asked to pay) 86 .. 村里能帮我先垫上交了吗, 服务站能帮老人代交不: the offline channels, not
                                         the record nor the family account (not what the agent charges)
  MY_STATUS 85 ......................... 我交了吗 / 交没交, whatever else is mentioned; having paid, how to check
                                         it (我已经交了怎么查, 钱交了怎么知道成功没), not the channels
  OUT_OF_SCOPE 83-84 ................... 医院, 凭证, 电话
  HANDLING_FEE 80 ...................... 村里收代办费 / 多收 outranks the fee it mentions
  OUT_OF_SCOPE 退费, 分期缴费, 少交 78 (the notice is silent, or says 一次性足额缴纳: answered from the notice);
                                         更改缴费, 重复缴费 77 (交错档次了能改吗, 交重复了: a refund asked wins)
  NEWBORN 75 ........................... 新生儿交多少钱 -> NEWBORN: the answer must carry the 90-day window
                                         and coverage from birth, which a plain fee answer would miss
  REGISTRATION (non-local) 74 .......... 外地人在这打工能参加吗 is enrolment, not the migrants' extension
  MOVING 73 > MIGRANT 72 ............... 打工回来还能交吗 -> MIGRANT (not DEADLINE); explicit moving words
                                         (转医保, 户口迁了) win over 打工
  WAITING_PERIOD 66 .................... 断了两年没交，多久能报销: the wait for a lapse, not BENEFIT_START; a
                                         lapse told in words counts only with a when-covered question
                                         (两年没交了现在还能交吗 stays DEADLINE)
  BENEFIT_START 65 ..................... 交了什么时候能报销 is not DEADLINE
  FAMILY_ACCOUNT 62 .................... 用职工医保给父母交 is not OUT_OF_SCOPE(职工医保) nor FEE
  FEE (tier + 条件/谁能选) 61 ........... 三档谁能选 is the tier's eligibility, not REGISTRATION
  FEE (category + 补助/资助) 60 .......... 低保户政府补助多少 is the category's subsidy, not FISCAL_SUBSIDY
  REGISTRATION (has 职工医保) 58 ......... 有职工医保还要交居民医保吗 (topic employee_insured: the notice's rule for
                                         them); 辞职了没有职工医保 is plain eligibility
  OUT_OF_SCOPE 职工医保 57 ............... 职工医保交多少钱 is not our fee
  FISCAL_SUBSIDY 55 > FEE 50 ........... 政府补助多少钱 contains 多少钱; several questions -> the fee first
                                         (FEE 51, topic compare: two counties or groups compared, 哪个交的少)
  HELP (你能做什么, 能干嘛) 48 ............. asks what the bot does, even if it names 公众号 or 微信
  REGISTRATION (never enrolled, no employer) 46 ... 没单位…能交不 asks whether one may join, not the period
                                         (还能交吗 stays DEADLINE)
  DEADLINE 45 > REGISTRATION 42 > CHANNELS 40
                                         (能交吗 / 现在还能交不 asked alone, a place at most: the period, while
                                         微信能交吗 stays CHANNELS)
                                         (怎么参保缴费 -> REGISTRATION; 低保户怎么交 -> CHANNELS)
  SET_REGION (切换地区) 30 ............... explicit switch, unless a question is asked too
  HELP (帮助, 菜单, ?) 20
  FEE (only a category or tier named) 16 我是低保户 / 540那档: what does my group pay
  SET_REGION (only a place named) 14 ... 我是陵川县礼义镇的 / 陵川 / 霍邱县 (extras unknown_region): the message
                                         is essentially a place; 陵川县有啥新政策没 is FALLBACK (with the region)
  GREETING 10, thanks 9 (topic 致谢) ... "你好，低保户交多少钱" is FEE; "你好，我是陵川的" is SET_REGION
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.nlu.lexicon import AWAY, FAMILY, HOW, HOW_MUCH, KIN, PAID_FOR, PAY, SELF, WHAT, WHEN, WHERE
from bot.nlu.query import Intent
from bot.nlu.slots import Slots

SlotCondition = Callable[[Slots], bool]


@dataclass(frozen=True)
class RuleMatch:
    rule: IntentRule
    position: int


@dataclass(frozen=True)
class IntentRule:
    """One way of recognising an intent: any of `patterns` (searched, case-insensitive) and `when`."""

    name: str
    intent: Intent
    priority: int
    patterns: tuple[re.Pattern[str], ...]
    when: SlotCondition | None = None
    topic: str | None = None  # for OUT_OF_SCOPE: what was asked about, as a short Chinese label
    # A context rule recognises a situation (打工, 刚生完孩子, 职工医保, 医院) that may only be mentioned: it yields
    # to a question rule matching in a clause of its own (see `classify`). `subject`, if set, must also be
    # named in that clause (刚生完孩子，我们两口子交多少: a question about someone else than the baby).
    context: bool = False
    subject: re.Pattern[str] | None = None
    question: bool = False  # a fee, deadline, channel, family-account, enrolment or cover question: context yields
    # Questions a context rule's own answer covers, which it does not yield to (户口迁过来了，能在这参保吗: where to
    # enrol after moving is the moving answer; 户口没迁 is a non-local's, registration_nonlocal).
    covers: frozenset[Intent] = frozenset()

    def match(self, text: str, slots: Slots) -> RuleMatch | None:
        if self.when is not None and not self.when(slots):
            return None
        positions = [m.start() for p in self.patterns if (m := p.search(text))]
        if positions and slots.mentions and self.when not in _GROUP_CONDITIONS:
            positions = [start for p in self.patterns if (start := _outside(p, text, slots.mentions)) is not None]
        return RuleMatch(self, min(positions)) if positions else None


def _outside(pattern: re.Pattern[str], text: str, mentions: tuple[str, ...]) -> int | None:
    """Where `pattern` first matches `text` other than wholly inside a group's name said (回乡 in 带病回乡退伍军人: the
    group's own words, no evidence of the migrants' return); a match reaching beyond the name counts (申请低保)."""
    inside = [(i, i + len(said)) for said in mentions for i in _occurrences(text, said)]
    for m in pattern.finditer(text):
        if not any(start <= m.start() and m.end() <= end for start, end in inside):
            return m.start()
    return None


def _occurrences(text: str, said: str) -> list[int]:
    found: list[int] = []
    i = text.find(said)
    while i >= 0:
        found.append(i)
        i = text.find(said, i + 1)
    return found


def rule(
    name: str,
    intent: Intent,
    priority: int,
    *patterns: str,
    when: SlotCondition | None = None,
    topic: str | None = None,
    context: bool = False,
    subject: str | None = None,
    covers: frozenset[Intent] = frozenset(),
) -> IntentRule:
    compiled = tuple(re.compile(p, re.IGNORECASE) for p in patterns)
    question = intent in _QUESTION_INTENTS and when is not _has_category_or_tier
    subject_re = re.compile(subject) if subject else None
    return IntentRule(name, intent, priority, compiled, when, topic, context, subject_re, question, covers)


def _has_category(slots: Slots) -> bool:
    return bool(slots.categories)


def _has_category_or_tier(slots: Slots) -> bool:
    return bool(slots.categories or slots.tier)


def _has_tier(slots: Slots) -> bool:
    return bool(slots.tier)


def _no_tier(slots: Slots) -> bool:
    return not slots.tier


# The conditions of the rules that read a group named (低保户多少钱, 我是低保户): their patterns may match its words.
_GROUP_CONDITIONS: tuple[SlotCondition | None, ...] = (_has_category, _has_category_or_tier, _has_tier)


# A clause in which no village, service point, school or 代办员 pays (村干部能帮我爹交不, 给孩子在学校交可以吗: the
# channels' question).
_NO_AGENT = (r"(?:^|(?<=[,.;!?]))(?![^,.;!?]*(?:村|代办|代收|代征|干部|会计|网格员|工作人员|便民|服务|参保点|社区|乡里"
             r"|镇上|街道|窗口|学校|幼儿园))[^,.;!?]*?")
# Who pays for one that is no relative: the village, a service point, a 代办员.
_AGENT = (r"村(?:里|上|委会?|干部|会计)?|乡里|镇上|干部|会计|网格员|工作人员|社区|街道|便民服务(?:站|点|中心)"
          r"|服务(?:站|点|中心)|代办(?:员|点)?|参保点|缴费点")
# Who is no relative (邻居大妈, 朋友他妈): paying for them is not the family account.
_NOT_KIN = r"邻居|朋友|同事|同学|老乡|熟人|街坊|别人|外人"
# A relative a share is paid for, as said after 给/帮/替 (我老家的爹妈, 家里的奶奶, 我弟, 老家陵川的娘).
_FOR_KIN = rf"(?:{SELF}(?:的|家)?)?(?:老家|家里)?(?:(?!{_NOT_KIN})[^,.;!?给帮替为交缴]){{0,5}}?(?!{_NOT_KIN}){KIN}"


# What a resident says around a place when telling where they live (我是陵川县的, 俺家在罗山县灵山镇, 乐至县那边,
# 你好，我是陵川的，以后就问陵川的): once the places are taken out (`Slots.rest`), nothing else is left.
_PLACE_TALK = re.compile(
    r"(?:你好|您好|你们好|谢谢|多谢|好的|嗯|哦|喂|对|我们|俺们|咱们|我|俺|咱|老家|家里|家|户口|户籍|就是|是|住在|住|在|"
    r"就|也|都|一直|现在|目前|属于|归|换成|换到|改成|改为|切换到|切到|选择|选|地区|地方|县城|城里|城|镇上|村民|居民|一下|"
    r"这边|那边|这里|那里|这儿|那儿|这块|那块|这头|上|里|的|人|以后|把|帮|给|请|"
    # asking about the insurance, nothing named (我是青禾县的想问下医保)
    r"(?:要|想)?问(?:一下|下|问)?(?:一下)?(?:医保|合疗|新农合|居民医保|医疗保险)(?:的事|方面的事|的问题)?|要问|想问|问|要|查|"
    r"呢|啊|呀|哈|吧|嘛|啦|嘞|咯|哟|哩|噻|撒|呐|[,.:;!?~ ])*"
)


def _only_place(slots: Slots) -> bool:
    """Whether the message is essentially a place (我是陵川县的, 陵川): not a question that names one
    (陵川县有啥新政策没), which is not the resident saying where they live."""
    return slots.place_named and _PLACE_TALK.fullmatch(slots.rest) is not None


# Whether paying is open now, asked with nothing else (能交吗, 现在还能交不, 今天可以缴费吗, 这会儿交得了不): the
# collection period, asked beside a place at most (陵川能交吗: see `Slots.rest`).
_CAN_PAY_NOW = re.compile(
    r"(?:那|那么|请问|问一下|问下)?(?:我|俺|咱|我们|俺们)?(?:现在|今天|目前|眼下|这会儿?|这阵子?|这几天|这个月|今年"
    r"|(?:\d{4}年)?\d{1,2}月份?(?:\d{1,2}[号日])?(?:前|之前|以前|底|初|中旬|里)?|\d{1,2}[号日](?:前|之前|以前)?)?"
    r"(?:还|也|又)?(?:能|可以|让|给|能不能|可不可以|让不让|给不给)?"
    r"(?:[交缴]|缴费|交费|交钱|续费)(?:得了|得上|的了|得成)?(?:医保|合疗|保险|费|钱)?(?:了)?"
    r"(?:吗|不|没|么|嘛|啊|呀|不了|了不|没有|呢|不能|不可以)?[?]*"
)


_MAY = re.compile(r"能|可以|让|给|得了|得上|的了|得成")


def _can_pay_now(slots: Slots) -> bool:
    rest = slots.rest.strip(" ,.:;!~")  # 罗山 2025年1月份能交不: the space the place leaves
    return _CAN_PAY_NOW.fullmatch(rest) is not None and _MAY.search(rest) is not None


# What a message asks, which topic mentions in other clauses of it yield to (see `classify`).
_QUESTION_INTENTS = frozenset({Intent.FEE, Intent.DEADLINE, Intent.CHANNELS, Intent.FAMILY_ACCOUNT,
                               Intent.FISCAL_SUBSIDY, Intent.REGISTRATION, Intent.BENEFIT_START, Intent.WAITING_PERIOD})
# Clauses: a mention (我在外地打工) and the question (今年交多少) are usually separated by punctuation.
CLAUSE = re.compile(r"[,.;!?。，；！？、 ]+")
# A clause that points back at the mention (到时候还能交不, 具体咋弄) asks about it, not beside it.
# A clause asking only how (要咋办, 该怎么弄呢) asks about what was told before it.
REFERS_BACK = re.compile(
    r"到时候?|那时候?|那个时候|那会儿?|那阵儿?|那边|哪边|哪头|两边|这种情况|这样的?话|那样的?话|具体"
    r"|^(?:那|那么|这|这个|现在)?(?:我|俺|咱)?(?:们)?(?:的)?(?:医保|合疗|保险|这事儿?|这个事)?(?:到底|究竟)?"
    r"(?:要|该|得|应该|需要)?(?:咋|怎么|怎样|如何|咋个|啷个)(?:办|弄|整|搞|处理|操作)(?:的)?"
    r"(?:呢|啊|呀|嘞|哦|咯|嘛)?[?]*(?:(?:太|好|真|有点|怪)?(?:麻烦|复杂|难弄|难办)(?:了|啊|呀|的很)?)?[!?]*$"
)
# The place pointed back at (那边怎么交): after a question of its own, a clause asking about the place it named
# is a further question (户口迁到外地了咋办，那边怎么交: moving, then the channels there).
PLACE_BACK = re.compile(r"那边|哪边|哪头|两边")
# A clause that asks something itself (户口迁了医保咋转): its mention is a question, not a context.
ASKS = re.compile(
    r"吗|呢|么|嘛|咋|怎么|怎样|如何|啥|什么|多少|(?:好多|几多)(?:钱|块)|多钱|几(?:号|月|时|点|块|档|百)|哪|能不能|可不可以|行不行"
    r"|要不要|中不中|[?？]|不[咯嘞噻撒哦啊呀]?$|没有?$"
)
# More ways a clause asks (交不交, 多久, 是不是, and 交好多 ending it, 交了没有, 帮我查查, 在学校交还是回家交):
# with ASKS, what `asks` looks for.
ASKS_TOO = re.compile(r"(.)不\1|(.)没\2|多久|多长时间|(?<![好十前这那])几(?:天|个?(?:月|星期|礼拜|钟头|小时|年))"
                      r"|对不对|是不是|谁|(?:好多|几多)$|(?:了|过)没有|帮(?:我|俺|忙)(?:查|看)|(?<=[交缴买办])还是")
# A resident announcing the question (我就想知道, 想问一下, 请问): what follows is asked, what comes before is
# the story (see `classify` and bot.nlu.questions).
ASK_MARKER = re.compile(r"想知道|(?:想|要)(?:先|再)?问(?:一下|一问|下|问)?|请问|问(?:一下|一问|问)")
# Readings that ask nothing of their own.
_NOT_ASKED = frozenset({Intent.GREETING, Intent.HELP, Intent.SET_REGION})
# Readings a detail of a story gives (用微信交的, 现在又要几百), and the questions they yield to (see `_asked_instead`).
_TOLD_DETAILS = frozenset({Intent.FEE, Intent.CHANNELS, Intent.FAMILY_ACCOUNT})
_ASKED_WHAT = frozenset({Intent.FEE, Intent.FISCAL_SUBSIDY, Intent.DEADLINE, Intent.BENEFIT_START,
                         Intent.WAITING_PERIOD, Intent.FAMILY_ACCOUNT})
# A time said (腊月里, 7月份, 明年二月底, 年前): when a resident means to pay, or pays up to.
_SAID_TIME = (r"(?:年底|(?:阳历|公历|农历|阴历)?年前|年后|年根|年初|腊月|正月|过(?:了|完)?年|春节|月底|月初|"
              r"下(?:个)?月|明年|今年|"
              r"(?:大)?年三十|除夕|小年|元旦|元宵|(?:十五|初[一二三四五六七八九十])(?=前|以前|之前|后|以后)|"
              r"(?:\d{1,2}|[一二三四五六七八九十]{1,2}|正|腊)月份?(?:底|初|中旬|下旬|上旬|末)?)")
# Mentions whose answer does not say when cover starts (the migrants' extension), and the questions that do.
_YIELDS_TO_COVER = frozenset({Intent.MIGRANT})
_COVER_ASKED = frozenset({Intent.BENEFIT_START, Intent.WAITING_PERIOD})
# Questions a held mention's own answer covers, asked in clauses of their own beside it: the newborn's answer
# carries the 90-day window and cover from birth (娃九月份出生的…现在办还来得及吗，是不是从出生就能用).
ANSWERED_WITH: dict[Intent, frozenset[Intent]] = {
    Intent.NEWBORN: frozenset({Intent.DEADLINE, Intent.BENEFIT_START}),
    # the migrants' answer is the period and its extension (打工腊月才回，回来还能交吗: the extension)
    Intent.MIGRANT: frozenset({Intent.DEADLINE}),
}
# Someone other than a newborn: the subject of a question that makes 刚生完孩子 a mere mention.
_A_TIME = re.compile(
    r"年底|年前|年后|年根|腊月|正月|过年|春节|月底|下(?:个)?月|\d{1,2}月|[一二三四五六七八九十]{1,2}月|\d{1,2}号|(?:才|再)(?:能)?回"
    # ... or that the one away is back now (打工的都回来了, 刚返乡): the time of the return is now
    r"|(?:都|刚|已经|才)(?:从[^,.;!?]{1,8}?)?(?:回来|返乡|回乡|回家)(?:了)?"
)
_ABOUT_WHOM = re.compile(r"问的是|说的是|问(?:一下|问)?(?:我|俺|咱)")
# An older child told beside the newborn (刚生了老二，老大在上小学): the one a question naming nobody is about.
_OLDER_CHILD = re.compile(
    r"老大|大的(?:那个|那位)?|大(?:儿子|女儿|闺女|孩子|娃|宝)|上学|读书|上(?:小学|初中|高中|幼儿园)"
)
_THE_BABY = re.compile(r"孩子|小孩|娃|宝宝|婴儿")
_NOT_THE_BABY = r"我|俺|咱|自己|两口子|大人|老人|爹|娘|爸|妈|老伴|媳妇|老公|全家|一家"
# Questions a held mention's answer covers when their clause names what the mention is about: how the baby's
# insurance is done (娃娃的医保咋办, 给孩子咋登记) is the newborn answer's (its window and registration), asked beside
# the birth told; where to pay for the baby (娃在哪交) stays the channels' question.
ANSWERED_ABOUT: dict[Intent, tuple[re.Pattern[str], frozenset[Intent]]] = {
    Intent.NEWBORN: (re.compile(rf"(?=.*(?:{_THE_BABY.pattern})).*{HOW}(?:办|弄|整|搞|操作|登记|参保|上医保)"),
                     frozenset({Intent.CHANNELS, Intent.REGISTRATION})),
}

INS = r"(?:医保|医疗保险|合疗|新农合|农合|合作医疗|城乡医保|居民医保|保险)"
# Years counted or not (两年, 十来年, 好几年, 这么多年).
_SOME_YEARS = r"(?:(?:\d{1,2}|[一两二三四五六七八九十])(?:来|多)?(?:个)?|好几|这么多|那么多|很多|好多|多)年"
_LAPSE_WORDS = (
    rf"(?:断(?:了|掉|过)(?:了)?{_SOME_YEARS}"
    rf"|{_SOME_YEARS}(?:都|也|一直)?没(?:有)?(?:交|缴|参保|买|续)"
    r"|去年(?:就|也)?没(?:有)?(?:交|缴|参保|买|续))"
)
_OOS = Intent.OUT_OF_SCOPE
# Insured where one works: 职工医保, 单位的医保, 厂里交了社保, 有五险.
_EMPLOYEE_INSURED = (
    r"(?:职工医保|职工基本医疗|城镇职工(?:医保|医疗保险)?|职工的?(?:医保|保险)"
    r"|(?:单位|厂里|公司|工地|打工的地方|上班的地方)(?:的|上|里)?(?:给|帮)?(?:交|缴|买|上)?(?:了|的)?(?:医保|社保|五险|医疗保险)"
    r"|(?:有|交了?|缴了?|买了?|上了?)(?:社保|五险))"
)
# ... and asking whether the residents' insurance is needed too (还用交这个吗, 能不能两个都交, 还要参加居民医保吗).
_TOO = (r"还要|还用|还需要|还得|还能|还交|还买|还参加|也要|也得|也能|也交|要不要|用不用|需不需要|能不能|可不可以"
        r"|同时|一起|两个都|两样都|都(?:要|得|交|买|参加)|重复")
# Reminding or telling the one asking (提醒我, 通知俺, 给我发个消息, and 喊 / 叫 said as a call: 叫我一声, 喊我交钱).
_REMIND_ME = (rf"(?:(?:提醒|通知|喊|叫(?=(?:我|俺|咱)(?:们)?(?:一声|一下|[交缴])))(?:{SELF}|咱)"
              rf"|(?:给|跟)(?:{SELF}|咱)(?:们)?(?:发|推)(?:个|条|一条)?(?:消息|通知|短信|提醒))")
# What may stand between a request's opening (记得, 到时候) and the reminder, not someone else who reminds (到时候村里会
# 通知我吗: a question about the village).
_NOT_ANOTHER = r"(?:(?![村乡镇会他她人谁没])[^,.;!?]){0,8}?"
# A clause about the account's own reminders, not someone else's (村里会提醒吗, 他们会通知吗: a story of theirs).
_OURS = r"(?:^|(?<=[,.;!?]))(?![^,.;!?]*(?:村|乡里|镇上|干部|他|她|别人|人家|谁))[^,.;!?]{0,10}?"
# Enrolled without a break, told in words (连着交了, 年年都交, 一直参保, 从没断过, 一直不断交, 一年不落).
_CONTINUOUS = (r"(?:(?:连着|连续|年年|每年都|一直|从来|从)(?:都)?(?:[交缴]|参保|买|不断|没(?:有)?断)"
               r"|不断(?:[交缴]|保|档)|没(?:有)?断(?:过)?(?:[交缴]|保|档)|一年(?:都|也)?(?:不|没)落)")
# Never claimed, told any way (一直不报销, 从来没用过, 没看过病, 没住过院, 一分钱没报).
_NEVER_CLAIMED = (r"(?:(?:不|没)(?:有)?(?:报销|报|用|看过病|看病|生过病|住过院|住院)(?:过)?(?:医保)?"
                  r"|(?:一分钱|一分|一毛钱|一次|一回)(?:院|病)?(?:都|也)?(?:没|不)(?:有)?(?:报|用|花|住|看))")
# A reward asked after (奖励, 好处, 能多报, and the plain 有啥说法).
_REWARD = r"(?:奖励|激励|好处|优惠|多报|说法|福利|照顾|实惠|补偿)"
# Where one pays that is a channel, not a place one was insured in (村里, 微信上, 镇上的服务中心).
_A_CHANNEL = r"村|乡|镇上|微信|手机|网上|支付宝|银行|信用社|邮政|代办|窗口|服务|便民|社区|学校|单位|厂"
# Being enrolled said as getting onto the insurance (上医保, 入合疗, 办个居民医保).
_ENROL = r"(?:上|入|办)(?:个)?(?:医保|合疗|居民医保|城乡医保|新农合|农合)"
# No employer to insure one: self-employed, odd jobs, a small shop of one's own.
_NO_EMPLOYER = (r"(?:没(?:有)?(?:单位|工作单位|固定(?:的)?工作|正式工作)|个体(?:户|工商户|经营)?|自由职业|打零工|干零活"
                r"|(?:做|干)(?:点)?(?:小)?(?:生意|买卖)|开(?:了)?(?:个|一个|家)?(?:小卖部|小店|店|饭店|饭馆|超市|铺子|门面))")
# Checking one's payment: 查, 看, 知道 (怎么知道成功没), 确认.
_CHECK = r"(?:查询|查看|查|看到|看(?!病|医生|门诊)|知道|确认|确定)"

_RULE_TABLE: tuple[IntentRule, ...] = (
    # -- account --------------------------------------------------------------------------------------
    rule("reminders_on", Intent.REMINDERS, 96, r"^(?:订阅|接收|开启|接收缴费)提醒$",
         # asked in the resident's words, of us (到时候叫我一声, 交钱前给我发个通知, 截止前提醒俺): a request to be
         # reminded, not a story of someone who did or did not (村里没通知我, 谁提醒我交的)
         rf"(?:记得|记着|到时候?|到点|届时|提前|[交缴](?:费|钱|医保)?(?:的时候|前|之前)|截止(?:前|之前)|麻烦|请|能不能"
         rf"|可不可以|能|可以|帮(?:我|俺|忙))(?:的时候)?{_NOT_ANOTHER}{_REMIND_ME}"
         # (not a question put as a request: 麻烦提醒我一下交多少钱, 能不能通知我在哪交)
         rf"(?![^,.;!?]*(?:{HOW_MUCH}|{WHEN}|{WHERE}|{HOW}))",
         rf"(?<![没不别谁])(?<!没人){_REMIND_ME}(?:们|家)?(?:一下|一声|下)?(?:吧|呗|啊|哈|哦|呀)?[!.]*$",
         r"(?:开通|开启|打开|开|订|订阅|要|设)(?:个|一个|一下)?(?:交费|缴费|交钱)?(?:的)?(?:提醒|通知)(?!吗|没|不)",
         topic="on"),
    rule("reminders_off", Intent.REMINDERS, 97, r"^(?:退订|不接收|关闭|取消|不要)提醒$",
         # 别再给我推提醒了, 不要再通知我了, 不想收这个提醒, 提醒关了吧
         r"(?:别|不要|不用|甭|莫|不想|不需要|不必)(?:再)?(?:给|跟|对)?(?:我|俺|咱)?(?:们)?(?:再)?[^,.;!?]{0,4}?"
         r"(?:提醒|通知|推送|推消息|发消息)",
         r"(?:取消|关闭|关掉|关了|退订|停掉|停了|停止)(?:这个|那个)?(?:交费|缴费|交钱)?(?:的)?(?:提醒|通知|推送)",
         r"(?:提醒|通知|推送)(?:给我|帮我)?(?:关|停|取消|退订)(?:了|掉)",
         # the reminders named, then stopped in everyday words (这个提醒看着烦，以后别给我发了; 交费提醒我不想要了
         # 取消掉)
         r"(?:提醒|推送|消息)[^?]{0,24}?(?:别|不要|不用|甭|莫)(?:再)?(?:给|跟)(?:我|俺|咱)(?:们)?(?:再)?(?:发|推)(?:了|啦)?",
         r"(?:提醒|推送)(?:我|俺)?(?:们)?(?:都|也)?(?:不想要|不要|不需要|不想收|不想看)了",
         r"(?:提醒|推送)[^,.;!?]{0,10}?(?:取消|关|退订|停)(?:掉|了)",
         topic="off"),
    # asked about, not asked for (有交费提醒吗, 会不会提醒, 提醒功能怎么开): what reminders are and how to turn them on
    # (a request, 能提醒我吗, is reminders_on's; someone else's, 村里会提醒吗, a story of theirs)
    rule("reminders_asked", Intent.REMINDERS, 94,
         rf"{_OURS}(?:有没有|有|会不会|会|能不能|能|可以|可不可以)(?:个|什么|啥)?(?:交费|缴费|交钱|缴钱|到期|截止)?(?:的)?提醒"
         r"(?!我|俺|咱)",
         rf"{_OURS}(?:提醒(?:功能|服务)|(?:交费|缴费|交钱|缴钱)提醒(?:是|有|在|怎么|咋|如何|吗|么|嘛))",
         rf"{_OURS}{HOW}(?:才能)?(?:开|订|设|收|接收|开通|打开)[^,.;!?]{{0,4}}提醒",
         topic="ask"),
    rule("unbind", Intent.UNBIND, 95, r"解绑|解除(?:绑定|关联)|取消绑定|不(?:想)?绑(?:定)?了|不要绑定了",
         # the bound ID named, then undone: 把我绑的那个身份证解除掉, 绑定的身份证删了吧
         r"绑(?:定)?(?:的|了的|上的)[^,.;!?]{0,8}(?:解除|解开|取消|删除|删掉|删了|去掉|撤销)",
         r"(?:解除|解开|删除|删掉|去掉|撤销)[^,.;!?]{0,6}绑(?:定)?(?:的)?(?:身份证|信息)",
         # the binding is the one thing a resident can undo here: 解除掉, 我绑错了
         r"^(?:我|俺)?(?:要|想)?(?:帮我|给我)?(?:把(?:它|这个|那个))?解除(?:掉|了|一下)?(?:吧|吗|嘛)?[!.?]*$",
         r"绑(?:错|定错|的不对)了"),
    rule("bind", Intent.BIND, 90, r"绑定|绑(?:个|一下)?身份证|把身份证绑|关联身份证|^绑$|实名认证",
         # one's identity tied to this account in other words (把我的信息跟这个号连上, 身份证和微信关联一下)
         r"(?:身份|信息|证件|名字|户口)[^,.;!?]{0,10}?(?:绑|关联|连)(?:起来|上|在一起|到一起|一起|一下)(?!了?(?:吗|没|么|嘛))"),
    # -- not ours -------------------------------------------------------------------------------------
    rule("oos_pension", _OOS, 88, r"养老(?:保险|金|钱|保)?", topic="养老保险"),
    rule("oos_dibao_apply", _OOS, 87,
         r"(?:申请|评|办|办理|认定|怎么(?:才能)?吃|吃上)(?:个)?低保",
         rf"低保{HOW}(?:申请|评|办|认定)", r"低保(?:申请|认定|评定|金)", r"低保(?:一个月|每月|每个月)",
         topic="低保申请"),
    rule("oos_disability_card", _OOS, 87,
         r"(?:办|申请|评|鉴定)(?:个)?残疾证", rf"残疾证{HOW}?(?:办|申请|评|鉴定)", r"残疾(?:评定|鉴定)",
         topic="残疾证办理"),
    rule("oos_card", _OOS, 86,
         r"社保卡", r"电子医保卡|医保(?:电子凭证|码)", topic="社保卡"),
    rule("oos_medical_card", _OOS, 86, r"医保卡.{0,4}(?:丢|补办|补|激活|密码|挂失|领)", topic="医保卡"),
    rule("oos_claims", _OOS, 86,
         r"报销比例|报多少|能报多少|报销多少|报几成|报百分之|报销(?:标准|范围|流程|手续|材料|政策|额度|上限)",
         # the share paid back, asked any way (报销百分之多少, 能报几成, 报多大比例, 百分之几)
         r"报(?:销)?(?:的)?(?:百分之|几成|多大比例|多少比例|比例|几个点)|百分之(?:多少|几)",
         r"报销.{0,6}(?:材料|手续|流程|资料|证件)|起付线|封顶线|门诊统筹|门诊(?:报销|能报)|慢性病|慢病|异地就医|转诊|备案",
         rf"{HOW}报销|报销{HOW}|{WHERE}(?:里|儿)?报销|(?:药|药费).{{0,3}}(?:能报|报销)",
         topic="报销待遇"),
    rule("oos_serious_illness", _OOS, 86, r"大病(?:保险|医保)", topic="大病保险"),
    rule("oos_other_insurance", _OOS, 86, r"生育(?:保险|津贴)", topic="生育保险"),
    rule("oos_unemployment", _OOS, 86, r"失业(?:保险|金)", topic="失业保险"),
    rule("oos_injury", _OOS, 86, r"工伤", topic="工伤保险"),
    rule("oos_housing_fund", _OOS, 86, r"公积金", topic="住房公积金"),
    rule("oos_commercial", _OOS, 86, r"商业保险|意外险|人寿|惠民保|车险|重疾险", topic="商业保险", context=True),
    rule("oos_tax", _OOS, 86, r"个税|个人所得税", topic="个人所得税"),
    rule("oos_assistance", _OOS, 86, rf"医疗救助{HOW}?(?:申请|办)", r"(?:申请|办)医疗救助", topic="医疗救助申请"),
    rule("oos_receipt", _OOS, 84, r"(?:缴费)?凭证.{0,4}(?:打印|开)|发票|收据", topic="缴费凭证"),
    # (not where a baby was born, 在县医院生的: the birth is the mention)
    rule("oos_hospital", _OOS, 84,
         r"(?:医院|诊所|卫生院|卫生室|药店|定点医疗|挂号)(?![^,.;!?]{0,3}(?:生(?:的|了|下|完)|出生))",
         topic="医院", context=True),
    rule("oos_contact", _OOS, 83,
         r"(?:电话|热线|联系方式|联系人)(?:是|号码|号)?(?:多少|几|呢|在哪|$)|打(?:哪个|什么)?电话问|咨询电话|12393",
         topic="联系方式"),
    rule("oos_weather", _OOS, 86, r"天气|下雨|下雪|气温|刮风", topic="天气"),
    rule("oos_lottery", _OOS, 86, r"彩票|双色球|大乐透|中奖号", topic="彩票"),
    rule("oos_vaccine", _OOS, 86, r"疫苗|核酸", topic="疫苗"),
    rule("oos_refund", _OOS, 78, r"退费|退钱|退款|退保|能退吗|(?:能|可以)退(?:回|不)", topic="退费"),
    # What the notices say little or nothing of (the handler answers from the notice or says it is silent):
    # paying in parts, and paying less with no group named (俺是四级残疾，能少交点不 is that group's fee).
    rule("oos_instalment", _OOS, 78,
         r"分期|分(?:两|几|2|3|多)次(?:交|缴|付)|分批(?:交|缴)|分开(?:交|缴)|先(?:交|缴)(?:一半|一部分|点|一点)"
         r"|(?:交|缴)一半(?:行|可以|能|中)", topic="分期缴费"),
    # A payment to correct (交错档次了能改吗, 选错档了) or made twice (交重复了, 一个人交两份): answered from the notice
    # or said to be unwritten, as a refund is (asking for the money back, 交错了能退吗, is the refund's).
    rule("oos_correction", _OOS, 77,
         r"(?:[交缴]|选|买|报)错(?:了)?|(?:档|档次|地方|年度)(?:[交缴]|选)?错(?:了)?"
         r"|(?:[交缴]|买)(?:了|过)(?:以后|之后|后)?(?:还)?(?:能|可以|能不能|可不可以)(?:改|换|调|更改|变更)"
         # a tier paid or picked, then asked to change (交了二档还能改回一档吗, 交了一档后悔了能补差价改二档不), or
         # picked by a slip (点成三档了, 给她选成了二档): not a tier chosen for a new year (以前买的是低档，今年能换成
         # 高档不)
         r"|(?:[交缴]|买|选|点)(?:了|过|成|的是)[^,.;!?]{0,3}档(?:次)?(?:(?!今年|明年|下一?年|这次|这回|新的?一年)[^?]){0,12}?"
         r"(?<!想)(?:还)?(?:能|可以|能不能|可不可以)"
         r"[^,.;!?]{0,5}?(?:改|换|调|变更|更改)"
         r"|(?<![想要])(?:点|选|按|弄|填)成(?:了)?[^,.;!?]{0,3}档|补差价",
         topic="更改缴费"),
    rule("oos_paid_twice", _OOS, 77,
         r"重复(?:[交缴]|缴费|交费|扣)|[交缴](?:费)?(?:重|重复)了|(?:[交缴]|扣)(?:了)?(?:两|2|二)(?:次|遍|回|份|道)"
         r"|(?:交|缴|买)(?:两|2)份|多[交缴]了(?:一次|一份|一遍|一回)",
         topic="重复缴费"),
    rule("oos_less", _OOS, 78, r"少(?:交|缴)(?:点|些|一点|一些|一部分)|(?:能|可以|能不能|可不可以)少(?:交|缴)(?!多少)",
         when=lambda slots: not slots.categories, topic="少交"),
    rule("oos_employee", _OOS, 57, r"职工医保|职工基本医疗|城镇职工|单位(?:交|缴|给交)的?医保",
         topic="职工医保", context=True),
    # -- the resident's own record --------------------------------------------------------------------
    rule("my_status", Intent.MY_STATUS, 85,
         # (能交了吗 / 可以交了吗 asks whether paying has opened: the collection period, not the record)
         # (开始交了吗: whether collection has begun)
         r"(?<![能以])(?<!开始)[交缴](?:了|过了?|上了?|(?:上|进)去了?|进了?)(?:吗|嘛|么|没|没有|不)",
         r"[交缴]没[交缴]|[交缴](?:费)?没有|有没有[交缴]|[交缴](?:费)?成功(?:了)?(?:吗|没)",
         r"缴费(?:状态|记录|结果|情况)|参保(?:状态|记录)|参保了(?:吗|没)|查.{0,6}(?:参保|缴费)(?:情况|信息)",
         r"到账|查不到|查询不到|没显示|显示(?:未|没)[交缴]|没(?:收到|有)?短信", r"是否已?(?:[交缴]|参保)"),
    # having paid, how to check it (我已经交了怎么查, 钱交了怎么知道成功没, 交完在哪看交上没有): the record, not
    # the channels nor a menu
    rule("my_status_check", Intent.MY_STATUS, 85,
         rf"(?<![能以要得该])[交缴](?:(?:过|完|上|好)(?:费|钱|医保|合疗)?了?|(?:费|钱|医保|合疗)?(?:了|的))"
         rf"(?:钱|费|医保|合疗)?(?:以后|之后|后)?[^.;!?]{{0,5}}?"
         rf"(?:{HOW}|{WHERE}(?:里|儿)?|去{WHERE}|到{WHERE}|能不能|能|可以|可不可以)(?:能|可以|才能)?{_CHECK}",
         rf"(?:{HOW}|{WHERE}(?:里|儿)?|去{WHERE}|到{WHERE}|能不能|能|可以|可不可以)(?:能|可以|才能)?{_CHECK}"
         rf"(?:一下|到|得到)?(?:我|俺|自己)?(?:的|家)?.{{0,4}}(?:[交缴](?:没|上|了|过|成功|完)|成功|到账|(?:缴费|交费|参保)(?:记录|信息|情况|结果|成功)?)",
         r"(?:[交缴]|缴费|交费|付款|支付|钱)(?:上|了|完了?)?[^,.;!?]{0,8}(?:成功|到账|交上|缴上)(?:了)?(?:吗|没|没有|不|么|嘛)"),
    # -- how much ---------------------------------------------------------------------------------------
    rule("handling_fee", Intent.HANDLING_FEE, 80,
         r"手续费|代办费|管理费|服务费|跑腿费|好处费|辛苦费|工本费",
         r"(?:额外|另外)(?:再)?(?:收|[交缴]|要|加|给|出|掏|花|付)|多收|多要|乱收|加收|另收|多出"
         r"|多(?:出来)?的\d+(?:元|块)",
         r"比标准(?:高|多|贵)|超(?:过)?标准|高于标准",
         r"(?:代办|代收|代征|代[交缴]|帮(?:着|忙)?[交缴办]).{0,8}(?:给钱|收钱|要钱|花钱|收费|掏钱|给好处)",
         r"(?:代办|代收|代[交缴]|帮[交缴办]).{0,6}(?:收|要)了?\d{1,2}(?:元|块)",
         # what the one paying for you charges (代办员帮交一个人收好多钱, 让村会计帮交要不要多给几块钱)
         rf"(?:代办|代收|代[交缴]|帮(?:着|忙)?[交缴办]).{{0,10}}(?:收|给)(?:他|她|人家)?{HOW_MUCH}",
         r"多给(?:几块|几个|点|些|一点|几十)(?:钱)?|多给钱|(?:额外|另外)(?:再)?给",
         r"给(?:代办员?|村干部|村里|收费的人?|经办人)(?:点|些)?(?:钱|好处)"),
    rule("fee_subsidy_for_category", Intent.FEE, 60,
         r"补助|补贴|资助|补多少|减免|免费|全免|出钱|掏钱|兜底|(?:全|都)(?:给|帮)?[交缴]",
         # asked yes or no (国家补不补, 给不给补, 有没有补)
         r"补不补|给不给补|有没有补|(?:给|有)补(?:吗|不|没|么|嘛)",
         # whether the group pays at all (孤儿交钱不, 五保户要缴费吗), not whether paying is open (能交钱不)
         r"(?<![能以让给])(?:要|用|得|需要)?[交缴](?:钱|费)(?:不|吗|么|嘛)(?=$|[,.;!?])", when=_has_category),
    rule("fiscal_subsidy", Intent.FISCAL_SUBSIDY, 55,
         r"(?:财政|政府|国家|上面)(?:的|给|每人|每个人|一个人|人均|那头|那边|这头|这边|方面|那块|这块)*"
         r"(?:补助|补贴|配套|补|出|拿|掏|贴)",
         r"(?:补助|补贴)标准|财政补助|配套资金",
         # 政府到底给补了多少, 国家每年给出多少: the payer, a few words, paying, how much
         r"(?:财政|政府|国家|上面).{0,6}(?:补|贴|出|拿|掏)了?(?:多少|几)"),
    rule("fee", Intent.FEE, 50,
         rf"{PAY}.{{0,3}}{HOW_MUCH}", rf"(?:收|要|标准是?|标准为){HOW_MUCH}", rf"费(?:用)?(?:是|要)?{HOW_MUCH}",
         rf"(?:{HOW}|多少|啥)收费|(?:要|得|需要)[交缴]\d{{2,4}}(?![\d年号月日])|是不是.{{0,8}}(?<!\d)\d{{3,4}}(?![\d年号月日])",
         r"(?:多少|好多|几多|几个|几)(?:块)?钱|几块|多钱|几百块?|多少块",
         r"(?:缴费|交费|筹资|收费)(?:标准|金额|档次)|缴费额|费用(?:是)?多少|价格|价钱|啥价|什么价",
         r"(?:一年|一人|每人|一个人|每年|人均)(?:是|要|得)?多少|多少一年|多少一个人",
         # what one has to take out of one's pocket (一年掏多少, 得拿出来多少)
         rf"(?:掏|拿出来?)(?:个)?{HOW_MUCH}",
         r"\d{2,4}(?:元|块)(?:钱)?(?:吗|嘛|么|对吗|是吧|不)|(?<!\d)\d{3}(?:吗|嘛|么|对吗|是吧)|(?:每人|一个人|一人|每年|一年)\d{2,4}",
         # 交的是350吧, 缴了400对吧: the figure paid, checked
         rf"{PAY}(?:的|了)?(?:是|就是)(?<![\d.])\d{{2,4}}(?![\d.年号月日天岁点])(?:元|块)?(?:钱)?(?:吧|吗|嘛|么|对吗|是吧|对吧|对不)",
         # the insurance's standard, named alone (下一年度的陵川县医保标准)
         rf"{INS}(?:的)?(?:收费|缴费|交费)?标准",
         r"(?:今年|明年|现在|这次|今年的)(?:是|要|得|交)?多少",
         r"档次?.{0,8}(?:区别|不一样|不同|哪个好|选哪|怎么选)|\d{3}(?:元|块)?的?(?:还是|跟|和|或)\d{3}",
         r"涨(?:价|钱|了|到)|贵了|便宜|比去年",
         r"(?:要|用|需要|得)(?:不要)?[交缴](?:钱|费)?(?:吗|不)|要不要[交缴]|用不用[交缴]|还用[交缴]|不用[交缴]",
         r"免费|[交缴]不[交缴](?:钱|费)?|(?:收|要|花|掏|出)不(?:收|要|花|掏|出)钱",
         # the figure 0 checked (是不是交0元, 零块吗), or nothing to pay (免交, 一分钱不用交)
         r"(?<![\d.])[0零](?:元|块)|免[交缴]|一分(?:钱)?(?:都|也)?不(?:用|要)?(?:交|花|出|掏|缴)",
         r"(?:各|分别|都)(?:是|要|交|收)?多少",
         r"自付|个人(?:部分|承担|负担|缴费)|自己(?:要|还要|得|需要)?(?:出|掏)",
         rf"(?:要|得|需要|该)(?:掏|出){HOW_MUCH}",
         r"(?:补|减|免|少[交缴])多少|资助(?:多少|标准)|减免",
         # checking a figure heard elsewhere: 听说今年四百，对吗 / 高档五百四，我没记错吧
         r"(?<!\d)\d{2,4}(?![\d号月日年天岁点]).{0,12}(?:没记错|没说错|没弄错|对不对?|对吗|对吧|是吧|是吗|没错吧|是?真的(?:吗|不|么|假的))",
         r"是不是.{0,8}(?<![\d.])\d{2,4}(?:元|块)|(?<![\d.])\d{2,4}(?:元|块)(?:钱)?(?:吧|呀|啊)?$",
         r"(?<![\d.])\d{2,4}(?:元|块)?(?:钱)?(?:一个人|一人|每人|一年|一口人)(?:吧|吗|嘛|么|是吧|对吧|不)",
         # 是三百五不, 交四百不: a figure checked with a closing 不
         r"(?:是|交|缴|要|收)(?<![\d.])\d{2,4}(?![\d.])(?:元|块)?(?:钱)?(?:不|没)(?=$|[,.;!?])"),
    # two counties or two groups compared (陵川和罗山哪个交的少, 低保和特困交的一样吗, 低保户和监测户各交多少): each
    # figure side by side (topic "compare"), not one resident in both groups
    rule("fee_compare", Intent.FEE, 51,
         r"哪(?:个|里|边|家|一个)(?:县|镇|地方)?(?:的)?(?:交|缴|收)?(?:的|得)?(?:钱)?(?:多|少|贵|便宜|高|低)",
         r"(?:交|缴|收)(?:的|得)?(?:钱|费)?(?:一样|相同|差不多|不一样)",
         r"(?:各|分别)(?:交|缴|是|要|收)?(?:多少|几)",
         r"(?:交|缴)(?:的|得)?(?:钱|费)?(?:有)?(?:啥|什么)?(?:区别|差别|不同)",
         r"比.{1,8}?(?:交|缴)?(?:的|得)?(?:多|少|贵|便宜)",
         when=lambda slots: len(slots.regions) > 1 or len(slots.categories) > 1, topic="compare"),
    # a group or tier and a bare how-much: 高档多少, 低保户多钱
    rule("fee_group_how_much", Intent.FEE, 50, rf"{HOW_MUCH}", when=_has_category_or_tier),
    rule("fee_category_or_tier_only", Intent.FEE, 16, r".", when=_has_category_or_tier),
    # -- when -------------------------------------------------------------------------------------------
    rule("newborn", Intent.NEWBORN, 75,
         r"新生(?:儿|婴儿|娃娃?|宝宝|孩子|小孩)|新出生|刚刚出生|刚出生|才出生|刚生(?:的|了|下|完)|才生(?:的|了)|刚满月|刚落地|落地参保",
         # 出生 heard as 出身 or 出声 (刚出身, 孩子才出声)
         r"(?:刚|才|刚刚)出(?:身|声)|(?:娃|孩子|小孩|宝宝|婴儿)[^,.;!?]{0,4}出(?:身|声)(?:的|了|后|以后)",
         r"生完(?:孩子|娃|小孩|宝宝)|(?:孩子|娃|小孩|宝宝)生(?:了|下来)",
         r"(?:娃|孩子|小孩|宝宝|婴儿|儿子|闺女|女儿|孙子|孙女|外孙).{0,4}(?:出生|生下来|满月|几天大|个?月大)",
         # born lately, told by the date: 闺女是上个月15号生的, 孙子前天生的, and where (上个月22号在县医院生的)
         r"(?:娃|孩子|小孩|宝宝|婴儿|儿子|闺女|女儿|孙子|孙女|外孙).{0,10}(?:号|日|月|天|周|星期)(?:前)?生的",
         r"(?:娃|孩子|小孩|宝宝|婴儿|儿子|闺女|女儿|孙子|孙女|外孙)[^,.;!?]{0,10}?(?:号|日|月|天|周|星期)(?:前)?"
         r"在[^,.;!?]{1,8}?生(?:的|了|下)",
         # the birth told by how it went (顺产, 剖腹产)
         r"顺产|剖腹产|剖宫产|早产",
         r"生了(?:个|一个)?(?:娃|孩子|小孩|宝宝|儿子|闺女|女儿|二胎|三胎|老二)|二胎|三胎|坐月子|月子里",
         # the mother told, the baby implied: 我媳妇上个月在县医院生了, 儿媳妇前几天刚生
         r"(?:媳妇|老婆|爱人|闺女|女儿|儿媳妇?)[^,.;!?]{0,12}(?:生(?:了|的|完)|(?:刚|才)生)",
         r"出生.{0,4}(?:天|个月)(?:内|以内|之内)|上户口.{0,8}(?:医保|参保|合疗|新农合)",
         context=True, subject=_NOT_THE_BABY),
    rule("moving", Intent.MOVING, 73,
         r"换参保地|变更参保地|改参保地|参保地(?:变更|转移|迁移|更改|改|换|迁)|参保地址变更",
         rf"转(?:医保|参保|保险|关系|合疗)|{INS}(?:关系)?(?:转|迁)|转移接续|转过来|转回来|转到",
         r"从[^,.;!?]{1,8}转(?:回|入|过来)|转(?:回|入)(?:老家|本地|[^,.;!?]{1,4}[县镇市省])|转回[^,.;!?]{1,4}?(?:来|去)",
         r"迁户口|户口(?:迁|转|落户|搬|已经迁)|迁了户口|户口随迁|嫁(?:过来|到|来)|搬(?:家|到|过来|来)",
         r"迁(?:回|到|过|来|走|出)|(?:医保|参保)关系|转移",
         # (还能在老家交吗 asks whether paying at home is still open, a time: the mention beside it decides)
         r"(?<!还能)(?<!还可以)(?<!还让)在(?:外地|外省|外县|别的地方|别处|外面|老家|其他地方)(?:[交缴]|参保|参加|买)",
         r"暂停(?:原)?参保|停保|重复(?:参保|[交缴])|两(?:个)?地(?:方)?(?:都)?(?:[交缴]|参保)",
         # the old place of insurance stopped, the address changed (把原来的参保地停了, 改地址)
         r"参保地[^,.;!?]{0,4}(?:停|暂停|注销|取消|销)|(?:停|注销)(?:了|掉)?(?:原来的?)?参保|改(?:参保)?地址",
         # insured elsewhere before (原来在郑州参保的, 以前是在外县交的, 去年在合肥交的: a place, not a channel, 去年在
         # 村里交的)
         # (not a time before asking where, 截止以前在哪里缴)
         r"(?<!截止)(?<!截至)(?:原来|以前|之前|过去|本来)(?:是|都是|一直)?在(?!哪|啥|什么)[^,.;!?]{1,8}?"
         r"(?:[交缴]|参(?:的|过)?保|参加)",
         rf"(?:去年|前年|往年|这几年|前几年)(?:是|都是|一直)?在(?!{_A_CHANNEL})[^,.;!?]{{1,8}}?(?:[交缴]|参保|参加)"
         r"(?![的了]?(?:社保|职工|五险|养老))",
         # the old place's insurance stopped (把那边停了, 老家的先停掉)
         r"(?:那边|原来|老家|外地|以前)(?:的)?(?:医保|参保|保险)?(?:先)?(?:停|暂停|注销|退)(?:了|掉)",
         context=True, covers=frozenset({Intent.REGISTRATION})),
    rule("migrant", Intent.MIGRANT, 72,
         r"(?<![没不])(?<!没出去)(?<!不出去)(?<!没去)(?<!不去)(?:打工|务工)|返乡|回乡|外出(?:务工|打工|人员|的人)|农民工",
         r"(?:过年|过完年|过了年)(?:前|后)?.{0,3}(?:回|再[交缴])|春节.{0,4}(?:回|返)|年后.{0,3}(?:回|再[交缴])",
         r"回来(?:再|才|以后|后)?(?:[交缴]|补|买)",
         r"(?:年前|年底|年根|腊月|过年|春节)[^,.。?!]{0,8}才(?:能)?回(?:来|去|家)?",
         r"在外(?:地|面|省)?(?:上班|工作|干活|挣钱)|出门在外",
         context=True),
    # the other groups a notice's extended period names (退役军人, 刑满释放人员), asking about paying after the main
    # period (过了年还能交不, 年后补交行不): the extension, as for the migrants (我是退伍的…啥时候截止 stays DEADLINE)
    rule("migrant_extension_group", Intent.MIGRANT, 72,
         r"(?:(?:退役|退伍)(?:军人|的|兵|老兵)?|刑满释放|出狱|劳改)[^?]{0,24}?"
         r"(?:过了?年|过完年|年后|春节(?:后|以后|过后)|正月|延长|延期|过了(?:截止|期限|日子|时间))",
         # ... or back home now and asking whether paying is still open (退伍刚回来…现在还能交不)
         r"(?:(?:退役|退伍)(?:军人|的|兵|老兵)?|刑满释放|出狱|劳改)(?:了)?(?:刚|才|已经)?(?:回来|回乡|返乡|回家)"
         r"[^?]{0,24}?(?:还|也)(?:能|可以|让|给)(?:[交缴]|参保|补|买)"),
    rule("benefit_start", Intent.BENEFIT_START, 65,
         rf"{WHEN}.{{0,8}}(?:报销|能报|报|生效|能用|可以用|享受|有效|起作用|开始用|待遇)",
         r"(?:多久|多长时间|几天)(?:以?后)?(?:才|就)?(?:能|可以)?(?:报销|报|用|生效|享受)",
         rf"(?:报销|生效|待遇|享受).{{0,4}}(?:{WHEN}|从哪天|从什么时候|开始时间)",
         r"享受待遇|待遇(?:享受|开始|期)|生效|才(?:能|可以)(?:用|报|享受|看病)",
         r"(?:马上|立刻|立即|当天|第二天|次日)?(?:就|才)(?:能|可以)(?:用|报|看病|生效|享受)",
         r"(?:马上|立刻|立即|当天|第二天|次日)(?:能|可以)(?:用|报|看病|生效|享受)",
         r"(?:看病|住院|就医|拿药)(?:能|可以)(?:报|报销|用)"),
    # -- the national enrolment rules (国办发〔2024〕38号): waiting period and incentives --------------------
    rule("waiting_period", Intent.WAITING_PERIOD, 66,
         r"等待期|(?<![不没])(?:断保|断缴|断交|断档)|停保|中断(?:缴费|参保)|(?:没|未)(?:有)?连续参保",
         # A lapse told in words (断了两年, 三年没交, 去年没交) only with a question of when cover starts: a
         # resident who mentions a lapse while asking the deadline is asking the deadline.
         rf"{_LAPSE_WORDS}.{{0,30}}(?:多久|多长时间|{WHEN}|几个月|等多久).{{0,8}}(?:报|用|享受|生效|看病|待遇)",
         # ... or told in a story before the question (断了两年没交医保，那时候觉得…，现在交的话得多久才能报销)
         rf"{_LAPSE_WORDS}.{{0,80}}(?:多久|多长时间|几个月|等多久)(?:以?后)?(?:才|就)?(?:能|可以)?(?:报|用|享受|生效|看病)",
         rf"{_LAPSE_WORDS}.{{0,80}}(?:要|得|需要|还)?等(?:多久|多长时间|几个月|多少天)",
         # ... whether cover starts at once or after a wait (交了能马上报吗, 还是要等, 用不用等)
         rf"{_LAPSE_WORDS}.{{0,80}}(?:(?:马上|立刻|立即|直接|当时|当天)(?:就)?(?:能|可以)(?:报|用|享受|看病)"
         r"|还是(?:要|得)?等|(?:要|得|用|需)不(?:要|得|用)等|要等吗|得等吗)",
         # paying the missed years, or in the period for them, and the wait (补缴期交的多久能报, 补上能少等不)
         r"补(?:交|缴|上|齐)(?:期|了)?.{0,8}(?:减少|缩短|少等|等多久|等得少|不用等)",
         rf"补(?:交|缴)期.{{0,8}}(?:多久|多长时间|{WHEN}|几个月)(?:以?后)?(?:才|就)?(?:能|可以)?(?:报|用|享受|生效|看病)"),
    rule("enrolment_reward", Intent.ENROLMENT_REWARD, 89,
         r"连续参保.{0,10}(?:奖励|激励|提高|好处|限额|额度|多报|优惠|增加|(?:多|涨)(?:\d|[一二两三四五六七八九十百千]))"
         r"|参保激励|激励(?:政策|机制|措施)",
         # continuous enrolment told in words (连着交了好几年, 年年都交, 从没断过, 一年不落), and a reward asked
         rf"{_CONTINUOUS}.{{0,20}}{_REWARD}",
         rf"零报销|没(?:有)?(?:报销|报)过.{{0,10}}(?:{_REWARD}|提高|限额)|没(?:有)?用过医保.{{0,10}}(?:{_REWARD}|提高)",
         # never claiming, told any way (一直不报销的话, 从来没用过, 没住过院一分没报): and a reward asked
         rf"{_NEVER_CLAIMED}[^.;!?]{{0,12}}(?:{_REWARD}|提高)",
         # ... and the 大病 limit raised, asked or checked (一年没报销是不是大病限额多一千)
         rf"(?:{_NEVER_CLAIMED}|{_CONTINUOUS})[^.;!?]{{0,12}}(?:限额|额度|封顶线?)[^,.;!?]{{0,4}}(?:多|提高|增加|涨|加)",
         r"(?:最高)?支付限额.{0,4}(?:提高|增加|涨)|提高.{0,10}(?:支付限额|封顶线?)",
         r"(?:奖励|激励)(?:额度)?.{0,4}清零"),
    rule("fee_tier_choice", Intent.FEE, 61,
         r"条件|谁(?:能|可以)|能(?:不能)?选|可以选|能不能[交缴]|可不可以|限制",
         # changing to the tier (换成高档能行吗, 能改交三档不)
         r"换|改(?:成|为|交|选)|升(?:到|级|成)|(?:能|可以)[交缴]", when=_has_tier),
    rule("fee_tiers", Intent.FEE, 50,
         r"几个档|哪几(?:个)?档|(?:档次|几档)(?:有哪些|是什么|怎么分)|分几档|有哪些档|几档|[交缴选]哪(?:一|个)档"),
    rule("deadline_can_pay_now", Intent.DEADLINE, 45, r".", when=_can_pay_now),
    rule("deadline", Intent.DEADLINE, 45,
         # (not the end said as a time before asking where or how, 截止前去哪交: the channels)
         rf"(?:截止|截至)(?!(?:日期|时间)?(?:前|之前|以前)[^,.;!?]*(?:{WHERE}|{HOW}))"
         r"|结束|最后期限|期限|最后一天|最晚|最迟|过期|晚了|错过|来得及|逾期",
         r"还(?:能|可以|让|来得及)(?:[交缴]|补|买|参保)|现在(?:还)?(?:能|可以)(?:[交缴]|买)",
         rf"{WHEN}.{{0,4}}(?:[交缴]|开始|收|停)|到{WHEN}|[交缴]费(?:时间|日期|期|截止)|(?:缴费|征缴|筹资|参保)期",
         r"过了.{0,6}(?:还|能|可以)|几号(?:之前|以前|前)|补[交缴]|开始(?:[交缴]|收)",
         r"(?:就|便)?(?:[交缴]不(?:了|成|上)了|不(?:能|让|给)[交缴]了)",
         r"(?:年底|月底|年前|(?:阳历|公历|农历|阴历)年|元旦|\d+号|\d+月)(?:前|以前|之前)",
         # the late period named (延长期到几号, 宽限期), and a date the period runs to, checked (到2月28号对不)
         r"延长(?:缴费|收缴|征缴)?期|宽限期",
         r"(?:截止|截至|到)(?:\d{1,2}|[一二三四五六七八九十]{1,2})月(?:\d{1,2}|[一二三四五六七八九十]{1,3})[号日]"
         r"(?:吗|对不|对吗|对吧|是吧|是不是|没错|不是)",
         r"(?:过年|春节|年前|年底|月底|下个?月|明年|今天|明天|周末|现在|这个月)(?:前|以前|之前|后)?(?:还)?(?:能|可以)[交缴]",
         # paid up to a time, checked (交到年底是吧, 能交到三月份不), how many days are left (还剩几天), and whether a
         # time still does (腊月里交还行不, 8月份交的话还算数吗, 正月交算今年的不)
         rf"[交缴](?:到|至){_SAID_TIME}",
         r"(?:还剩|剩下|只剩|就剩|还有)(?:几|多少)(?:天|日子)",
         # the days left, said and checked (还剩两天了吧, 就剩一个礼拜了是吗)
         r"(?:还剩|只剩|就剩|剩下?)(?:下)?(?:\d{1,3}|[一两二三四五六七八九十半]{1,3}|几)(?:个)?(?:天|日子|星期|礼拜|周|月)",
         # collection stopping at a time (是不是年底就不收了, 过了元旦就停收): the period's end
         rf"(?:{_SAID_TIME}(?:前|以前|之前|后|以后|过后)?|快|马上|就要)(?:就|便|也|要)?"
         r"(?:不(?:再)?收|停(?:止)?收|收不了|不让[交缴]|不给[交缴])",
         rf"{_SAID_TIME}(?:里|的时候|前|以前|之前|后|以后)?(?:再)?[交缴](?:的话)?(?:还|也)?"
         r"(?:行|中|成|能行|来得及|赶得上|赶趟|算数?)",
         # ... paid up by then, the place's or the group's share between (除夕前交上俺们陵川的行不)
         rf"{_SAID_TIME}(?:前|以前|之前)(?:再)?[交缴](?:上|了|完|齐)[^,.;!?给到在用去]{{0,8}}?(?:的话)?(?:还|也)?"
         r"(?:行|中|成|能行|来得及|赶得上|赶趟|算数?)",
         r"[交缴](?:的话)?(?:还|也)?算(?:今年|明年|当年|本年|哪一?年|上一?年|下一?年)"),
    # -- how --------------------------------------------------------------------------------------------
    # the village, a service point or a 代办员 asked to pay for one (村里能帮我先垫上交了吗, 便民服务站能帮老人代交不):
    # the offline channels, not the record (交了吗) nor the family account (帮老人代交); not what they charge
    rule("channels_agent", Intent.CHANNELS, 86,
         rf"(?:{_AGENT})(?:的)?(?:{_AGENT})?(?:能|可以|能不能|可不可以|会不会|给不给)(?:不能)?(?:帮|替|代)(?:着|忙)?"
         r"[^,.;!?]{0,8}?(?:[交缴]|垫)(?![^,.;!?]*(?:费|多少|几块|钱))"),
    rule("family_account", Intent.FAMILY_ACCOUNT, 62,
         r"家庭共济|共济账户|亲情账户|亲情付|亲情(?:代缴|缴费)|家庭账户",
         rf"职工(?:医保)?.{{0,12}}(?:给|帮|替|为|代)|职工(?:医保)?.{{0,16}}(?:把|连)(?:{FAMILY}|家里)",
         rf"(?:个人账户|个账|医保账户|医保卡|统筹账户|账户余额|医保余额|卡里的钱|卡上的钱).{{0,10}}(?:{PAY}|代)",
         rf"(?:给|帮|替|为){SELF}?(?:的|家)?{FAMILY}代[交缴]|代[交缴].{{0,3}}{FAMILY}",
         # a relative paying for someone: 儿子能替我交不, 孙子…他能帮我们老两口交吗, 闺女能用她手机给我交吗
         rf"{KIN}.{{0,16}}(?:替|帮|给){PAID_FOR}.{{0,6}}[交缴]",
         # ... or helping without saying for whom: 侄子能帮忙交吗, 闺女可以替着交不
         rf"{KIN}(?:能|可以|能不能|可不可以)?(?:替|帮)(?:忙|着)[交缴]",
         # paying a relative's share from afar, the 把 construction: 给家里老人把医保交了
         rf"(?:给|帮|替|为)(?:家里的?)?{FAMILY}把.{{0,10}}[交缴]",
         # paying a relative's share from afar, the asker away (我在外地，能给老家的老娘交医保吗) or the relative
         # (我能替我哥交医保不，他在外地; 我哥在外地，我能替他交不)
         rf"{AWAY}[^.;!?]{{0,16}}(?:给|替|帮|为)(?:老家|家里)?(?:的|里的?)?{KIN}.{{0,6}}[交缴]",
         rf"(?:给|替|帮|为)老家(?:的|里的?)?{KIN}.{{0,6}}[交缴]",
         rf"(?:给|替|帮|为)(?:{SELF}(?:的|家)?)?{KIN}.{{0,6}}[交缴].{{0,16}}(?:他|她)(?:们)?(?:人)?{AWAY}",
         rf"{KIN}(?:人)?{AWAY}.{{0,16}}(?:给|替|帮|为)(?:他|她)(?:们)?.{{0,6}}[交缴]"),
    # a relative paying a relative's share (儿子给他奶奶交, 儿媳妇能帮婆婆交不), or the one asking whether they may
    # pay a relative's (能替我老家的姑姑在手机上交吗, 拿我的微信给我姐交中不中): the family account, as a relative
    # paying is; the share of someone at hand named only as 她 (我去村里替她交行不行) stays the channels' question.
    # Not a tier's choice (能给孩子交高档吗) nor how much (给孩子交多少).
    rule("family_account_relative", Intent.FAMILY_ACCOUNT, 62,
         rf"{KIN}[^,.;!?]{{0,12}}?(?:给|替|帮|为)(?:{_FOR_KIN}|(?:他|她)(?:们)?)[^,.;!?]{{0,8}}[交缴]"
         rf"(?![^,.;!?]*{HOW_MUCH})",
         rf"{_NO_AGENT}(?:能|可以|能不能|可不可以|让不让)[^,.;!?]{{0,8}}?(?:给|替|帮|为){_FOR_KIN}[^,.;!?]{{0,8}}[交缴]"
         rf"(?![^,.;!?]*{HOW_MUCH})",
         rf"{_NO_AGENT}(?:给|替|帮|为){_FOR_KIN}[^,.;!?]{{0,8}}[交缴][^,.;!?]{{0,8}}?"
         r"(?:行吗|行不|行不行|可以吗|可以不|中不中|中吗|能行吗|成吗|成不)",
         when=_no_tier),
    # already insured where one works, and asking whether to pay the residents' insurance too: what the
    # notice says of people in 职工医保 (不属于参保范围, 不得重复参保)
    rule("registration_employee", Intent.REGISTRATION, 58,
         rf"(?<!没有)(?<![没不]){_EMPLOYEE_INSURED}.{{0,16}}(?:{_TOO})", topic="employee_insured"),
    # no longer (or never) in 职工医保: whether one may join, the eligibility
    rule("registration_left_employee", Intent.REGISTRATION, 58,
         r"辞职|离职|不上班了|单位不交了|(?:没有|没|不是|不属于)(?:参加)?职工医保"),
    rule("registration_nonlocal", Intent.REGISTRATION, 74,
         r"(?:外地|外省|外县|非本地|非本县|非本镇)(?:的)?(?:人|户口|户籍).{0,16}(?:参保|参加|入保|[交缴])",
         # someone from elsewhere, married or come here (外省嫁过来的媳妇能不能在陵川上医保): whether they may enrol
         rf"(?:外地|外省|外县)(?:嫁|娶|来|过来|嫁过来|娶过来|嫁来)(?:的)?(?:人|媳妇|老婆|女婿|姑娘|儿媳妇?)[^?]{{0,16}}?"
         rf"(?:参保|参加|入保|{_ENROL})",
         r"(?:户口|户籍)(?:在|是)(?:外地|外省|外县|别的地方)",
         # the household registration not moved here (户口一直没迁过来, 户籍还没转): a non-local asking to enrol
         r"(?:户口|户籍)[^,.;!?]{0,6}?(?:没|未|没有)(?:有)?(?:迁|转|落|过来|办过来)[^?]{0,40}?(?:参保|参加|入保|[交缴]"
         rf"|{_ENROL})"),
    # no employer to insure one (个体户, 没单位, 开了个小店, 打零工), asking whether one may join at all (…能交不,
    # 能上医保吗): the eligibility, not the period (还能交吗 stays DEADLINE) nor the channels (能在微信上交吗)
    rule("registration_no_employer", Intent.REGISTRATION, 46,
         rf"{_NO_EMPLOYER}[^?]{{0,40}}?(?<!还)(?:能|可以|让)(?:不能|不可以)?(?:[交缴]|参保|参加|入保|加入|{_ENROL})"
         rf"(?:{INS})?(?:吗|不|没|么|嘛|不了|[?]|$)"),
    # never enrolled, and whether one may still join (从来没交过这个医保…我这种情况还能参保吗): the eligibility,
    # not the period
    rule("registration_never_enrolled", Intent.REGISTRATION, 46,
         r"(?:从来|从|一直|还)?没(?:有)?(?:交过|缴过|参过保?|参加过|买过|上过)[^?]{0,60}?(?:还|也)?(?:能|可以|让)(?:不能)?(?:参保|参加|入保|加入)"),
    rule("registration", Intent.REGISTRATION, 42,
         rf"在?{WHERE}(?:里|儿)?(?:参保|参加|入保)|参保登记|办理?登记|{HOW}登记|{WHERE}(?:里|儿)?登记|登记.{{0,4}}{WHERE}",
         rf"{HOW}(?:办理?)?(?:参保|参加|入保|加入|办医保|办理医保|上医保)|参保(?:要|得|该)?{HOW}(?:办理?|弄|登记)",
         rf"参保(?:要|得|该|可以|能)?(?:在|去|到)?{WHERE}(?:里|儿)?(?:办|登记|弄)",
         rf"(?:能|可以|可不可以|能不能|让|给)(?:在.{{0,6}})?(?:参保|参加|入保|加入|办医保|{_ENROL})",
         r"(?<![找给])(?:谁|哪些人|什么人|啥人|哪类人)(?:能|可以|要|需要|该)?(?:参保|参加|[交缴]|买)",
         r"参保(?:条件|对象|范围|资格|人员)|参加条件",
         rf"(?:参保|参加|入保)(?:要|需要|得|有)?(?:{WHAT}|哪些|几个)?(?:条件|资格|要求)",
         r"(?:外地|外省|外县|非本地|非本县|非本镇|外来)(?:的)?(?:户口|户籍|人)|户口不在|户籍不在|居住证",
         r"(?:学生|大学生|在校生|上学).{0,8}(?:参保|参加|登记)",
         r"第一次(?:参保|[交缴]|买)|首次参保|新参保|没(?:参过|交过|缴过|买过|参加过)|从来没[交缴]过",
         rf"(?:需要|要|得)(?:带)?{WHAT}(?:材料|证件|手续|资料)|(?:需要|要|得)带(?:上|着)?(?:些|点)?{WHAT}|灵活就业"),
    rule("channels", Intent.CHANNELS, 40,
         rf"{HOW}(?:[交缴]|付|买|续|弄|办|操作|缴纳)",
         rf"在?{WHERE}(?:里|儿)?(?:能|可以|去)?(?:[交缴]|买|办)|去{WHERE}",
         r"微信|支付宝|手机银行|网银|app|小程序|公众号|电子税务局|税务局|扫码|二维码|线上|线下|网上",
         r"手机(?:上|里)?(?:能|可以)?[交缴]|软件",
         r"皖事通|豫事办|(?:四川|河南|安徽|资阳)税务|(?:山西|安徽|四川)医保|国家医保服务平台",
         r"(?:用|通过)[^,.。?!]{1,8}?(?:能|可以)?[交缴]|(?:在|去|到)[^,.。?!]{1,6}?(?:能|可以)?[交缴]"
         r"(?:吗|不|嘛|么|(?:行|中|成|可以)(?:不|吗|嘛))",
         r"学校|幼儿园",
         r"(?:钱|费)?[交缴](?:给|到)(?:谁|哪)|(?:给|找)谁[交缴]|谁(?:来|在|负责)?收(?:医保|合疗|保险)?(?:的)?(?:钱|费)",
         r"现金|刷卡|pos|银行|代办点|便民服务|服务中心|服务站|柜台|柜面|窗口|营业厅",
         r"邮政|邮局|储蓄所|信用社|农商行|农行|工行|建行|中行|云闪付|代收|代征",
         r"(?:缴费|交费|交钱|缴钱|缴纳|付款|支付|交医保|缴医保)(?:的)?(?:渠道|方式|方法|流程|步骤|途径|入口|门路|法子|平台)",
         # the official ways asked after (正规渠道有哪些, 官方的平台是哪个)
         r"(?:正规|官方|正式|靠谱)(?:的)?(?:[交缴]费|交钱)?(?:的)?(?:渠道|途径|平台|地方)",
         # another place or way than one knows (还有别的地方能交吗, 有没有其他渠道, 换个法子交)
         r"(?:别的|其他|其它|另外的?|换个)(?:地方|地儿|渠道|办法|方式|途径|法子|门路|路子)",
         # the ways asked after, counted or not (有啥办法在家里交, 有几个地方可以交, 哪些法子能交), and whom to pay
         # (交医保找谁)
         r"(?:啥|什么|哪些|哪几个|几个|几种|多少个?|有没有)(?:个|种)?(?:办法|法子|方法|方式|途径|渠道|地方|地儿|门路)"
         r"[^,.;!?]{0,8}?[交缴]",
         r"[交缴](?:医保|合疗|保险|钱|费)?(?:要|得|该|去|应该)?找谁",
         # where to go in, on the phone or a page (手机上从哪进去交, 在哪个地方点进去, 入口在哪)
         rf"(?:从|在)?{WHERE}(?:里|儿)?(?:点)?进去|入口",
         r"不会(?:用)?(?:手机|智能手机|微信|操作|弄)|弄不来|村里.{0,4}[交缴]",
         # someone outside the family paying or filing for you: the offline / 代办 channels
         r"代办(?!费)|(?:村里|村上|有人|谁).{0,6}帮(?:着|忙)?(?:[交缴]|办)",
         # collected at the door, at a service point, or paid for you by the village (村干部能帮我爹交不, 乡里的
         # 缴费点能替我们交吗)
         r"上门|(?:参保|缴费|交费|收费|代收|代缴|服务)(?:点|处)",
         # paying for someone who is no relative (替邻居交): how anyone pays
         rf"(?:给|替|帮|为)(?:{_NOT_KIN})[^,.;!?]{{0,6}}[交缴]",
         rf"(?:村|乡里|镇上|干部|会计|网格员|工作人员|社区|街道)[^,.;!?]{{0,6}}(?:帮|替|代)(?:着|忙)?"
         rf"(?:{SELF}|他|她|老人|大家)?(?:们|家)?(?:的)?(?:{FAMILY})?[交缴]"),
    # -- conversation -----------------------------------------------------------------------------------
    rule("set_region_explicit", Intent.SET_REGION, 30,
         r"切换(?:地区|县|区县|地方|城市|区域)?|换(?:个|一个)?(?:县|地区|区县|城市)|更换地区|改(?:一下)?(?:地区|县)",
         r"选(?:择)?(?:地区|县)|设置地区"),
    rule("help_capabilities", Intent.HELP, 48,
         r"你(?:都)?能做什么|你(?:都)?会(?:些)?(?:什么|啥|干什么|干啥|干嘛|做什么|做啥)|能干(?:什么|啥|嘛)|能做(?:什么|啥)"
         r"|(?:干嘛|干啥|干什么|做什么|做啥)(?:子)?用的|有什么用",
         # 你能帮我干啥, 这个公众号都能帮我干啥, 可以帮俺们做些什么
         r"(?:能|可以|会)(?:帮|给|替)(?:我|俺|咱|大家)?(?:们)?(?:干|做|弄|办|整|搞)(?:些|点)?(?:什么|啥子?|嘛)",
         r"(?:能|可以)(?:问|查)(?:你|您)?(?:些|一些|点)?(?:什么|啥子?|哪些)|问(?:你)?(?:什么|啥)(?:呢|啊|呀)?[?]?$",
         r"回答(?:些|一些|点)?(?:什么|啥子?|哪些)"),
    rule("help", Intent.HELP, 20,
         r"帮助|菜单|功能|help|使用说明|说明书|怎么用(?:这个|你)?$|你是谁|你是(?:机器人|人工|ai|真人)",
         r"^[?]+$|人工客服|转人工|找人工"),
    rule("place_only", Intent.SET_REGION, 14, r".", when=_only_place),
    rule("greeting", Intent.GREETING, 10,
         r"^在[?吗嘛么不]*$|你好|您好|你们好|在吗|在不在|有人吗|哈喽|hello|^hi\b|^嗨|^喂|^早[啊呀安]?$|早上好|上午好|中午好|下午好|晚上好|老师好|大家好"),
    rule("thanks", Intent.GREETING, 9,
         r"谢谢|多谢|感谢|谢了|辛苦了|麻烦你了|^好的|^知道了|^明白了|^收到|^懂了|^ok$", topic="致谢"),
)

RULES: tuple[IntentRule, ...] = tuple(sorted(_RULE_TABLE, key=lambda r: -r.priority))


def _best(text: str, slots: Slots, rules: tuple[IntentRule, ...]) -> RuleMatch | None:
    best: RuleMatch | None = None
    for candidate in rules:
        if best is not None and candidate.priority < best.rule.priority:
            break  # nothing further down can win
        found = candidate.match(text, slots)
        if found is None:
            continue
        if best is None or (found.rule.priority, -found.position) > (best.rule.priority, -best.position):
            best = found
    return best


def _question_beside(context: IntentRule, text: str, slots: Slots, rules: tuple[IntentRule, ...]) -> RuleMatch | None:
    """The highest question rule matching in a clause of `text` that the context rule does not match, if the
    clauses it does match only state something (我在外地打工) rather than ask (户口迁了医保咋转)."""
    found: RuleMatch | None = None
    # The subject may be named in a clause saying whom the question is about (我问的是我自己，个人交多少).
    told_subject = context.subject is not None and any(
        ((context.subject.search(c) and _ABOUT_WHOM.search(c)) or _OLDER_CHILD.search(c))
        and not context.match(c, slots)
        for c in CLAUSE.split(text) if c
    )
    timed = _timed(context, text, slots)
    start = 0
    for clause in CLAUSE.split(text):
        offset = text.find(clause, start)
        start = offset + len(clause)
        if clause and context.match(clause, slots):
            if ASKS.search(clause.rstrip("呢啊呀")) or _named_alone(context, clause):
                return None  # the mention's own clause asks about it (我在医院住院呢 only tells)
            continue
        if not clause or REFERS_BACK.search(clause):
            continue
        if context.subject is not None and (_THE_BABY.search(clause)
                                            or not (told_subject or context.subject.search(clause))):
            continue  # 让我问问这小孩的医保咋弄 asks about the baby, 我 only asks
        for candidate in rules:
            if not candidate.question or candidate.intent in context.covers \
                    or (timed and candidate.intent is Intent.DEADLINE) \
                    or (found is not None and candidate.priority <= found.rule.priority):
                continue
            if (hit := candidate.match(clause, slots)) is not None:
                found = RuleMatch(candidate, offset + hit.position)
    return found


# Mentions of who one is, not of what happened (a move, a birth, a stay in hospital): a question asked after
# them in their own clause is asked as that person (我在外地打工能在网上交吗).
_WHO_ONE_IS = frozenset({Intent.MIGRANT})


def _asked_after(context: IntentRule, text: str, slots: Slots, rules: tuple[IntentRule, ...]) -> RuleMatch | None:
    """A question asked in the mention's own clause, after the mention told (我在外地打工能在网上交吗: the channels,
    said without a comma): the words after the mention, read alone, when they ask what its answer does not
    cover (打工回来还能交吗 is the migrants' own question). Only for a mention of who one is (`_WHO_ONE_IS`): a
    move or a hospital told in the clause is what its question is about (户口迁走了在哪交: the move's answer)."""
    if context.intent not in _WHO_ONE_IS:
        return None
    covered = context.covers | ANSWERED_WITH.get(context.intent, frozenset())
    timed = _timed(context, text, slots)
    plain = tuple(r for r in rules if not r.context)
    for offset, clause in _clauses(text):
        ends = [m.end() for p in context.patterns for m in p.finditer(clause)]
        if not ends:
            continue
        told, rest = clause[: max(ends)], clause[max(ends):]
        if asks(told) or not asks(rest) or REFERS_BACK.search(rest):
            continue
        # the words' own reading, whatever it is (的现在还能交吗: the period, the migrants' own question)
        hit = _best(rest, slots, plain)
        if hit is not None and hit.rule.question and hit.rule.intent not in covered \
                and not (timed and hit.rule.intent is Intent.DEADLINE):
            return RuleMatch(hit.rule, offset + max(ends) + hit.position)
    return None


# What may stand beside a topic named alone (职工医保的, 城镇职工医保呢).
_BESIDE_A_TOPIC = re.compile(r"[的了呢啊呀吧嘛]|医保|医疗保险")


def _named_alone(context: IntentRule, clause: str) -> bool:
    """Whether a clause names nothing but an out-of-scope topic (职工医保，交多少钱): the topic the question asks
    about, not a story beside it."""
    if context.topic is None:
        return False
    rest = clause
    for pattern in context.patterns:
        rest = pattern.sub("", rest)
    return rest != clause and not _BESIDE_A_TOPIC.sub("", rest)


def _timed(context: IntentRule, text: str, slots: Slots) -> bool:
    """Whether a clause of the mention says when (年底才回得去, 下个月才生): then whether one can still pay asks
    about that time, and the deadline question is the mention's."""
    return any(context.match(c, slots) and _A_TIME.search(c) for c in CLAUSE.split(text) if c)


def _asks_its_deadline(context: IntentRule, text: str, slots: Slots, rules: tuple[IntentRule, ...]) -> bool:
    """Whether a mention says when (`_timed`) and another clause asks whether one can still pay (回来还能交吗): the
    mention's own question, whatever else the message asks."""
    if not _timed(context, text, slots):
        return False
    deadline = tuple(r for r in rules if r.intent is Intent.DEADLINE)
    return any(not context.match(c, slots) and asks(c) and _best(c, slots, deadline) is not None
               for c in CLAUSE.split(text) if c)


def _only_told(context: IntentRule, text: str, slots: Slots) -> bool:
    """Whether every clause naming the mention only tells it, and no clause points back at it (a mention of
    a subject, the baby, is what the question is about: never merely told)."""
    clauses = [c for c in CLAUSE.split(text) if c]
    if context.subject is not None or len(clauses) < 2 or any(REFERS_BACK.search(c) for c in clauses):
        return False
    return all(not ASKS.search(c.rstrip("呢啊呀")) and not _named_alone(context, c)
               for c in clauses if context.match(c, slots))


def asks(clause: str) -> bool:
    """Whether a clause asks something (a question word or particle), rather than only telling."""
    return bool(ASKS.search(clause) or ASKS_TOO.search(clause))


def _clauses(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    start = 0
    for clause in CLAUSE.split(text):
        offset = text.find(clause, start)
        start = offset + len(clause)
        if clause:
            out.append((offset, clause))
    return out


def _asked_instead(found: RuleMatch, text: str, slots: Slots, rules: tuple[IntentRule, ...]) -> RuleMatch:
    """A fee, channel or family-account reading found wholly in a clause that only tells (我闺女用微信给我们交的,
    孙女给我装了这个微信, 现在又要几百) yields to a different question asked in another clause (这个乐至县啥时候
    截止, 低保户要掏多少, 政府补了多少): the story's details are not the question. A clause asking only how (咋弄,
    在哪办) asks about the story, which keeps its reading."""
    if found.rule.intent not in _TOLD_DETAILS:
        return found
    pieces = _clauses(text)
    if len(pieces) < 2:
        return found
    told = next((c for o, c in reversed(pieces) if o <= found.position), "")
    if asks(told.rstrip("呢啊呀")) or ASK_MARKER.search(told) or found.rule.match(told, slots) is None:
        return found  # the clause asks, or the reading spans clauses (儿子…能不能给我交)
    best: RuleMatch | None = None
    for offset, clause in pieces:
        if not asks(clause.rstrip("呢啊呀")) or REFERS_BACK.search(clause):
            continue
        hit = _best(clause, slots, rules)
        if hit is None or hit.rule.intent not in _ASKED_WHAT or hit.rule.intent is found.rule.intent:
            continue
        if hit.rule.name == "fee_category_or_tier_only":
            continue
        if best is None or hit.rule.priority > best.rule.priority:
            best = RuleMatch(hit.rule, offset + hit.position)
    return best or found


def classify(text: str, slots: Slots, rules: tuple[IntentRule, ...] = RULES) -> RuleMatch | None:
    """The winning rule for `text` (see `_classify`); a reading that a told clause gives yields to the
    question asked (`_asked_instead`), and a story before an announced question (…我就想知道政府补了多少) to
    the question."""
    found = _classify(text, slots, rules)
    if found is None:
        return None
    marker = ASK_MARKER.search(text)
    if marker is not None and found.position < marker.start() and found.rule.intent in _TOLD_DETAILS:
        tail = text.find(next(c for o, c in _clauses(text) if o + len(c) > marker.start()))
        if tail > 0 and (asked := _classify(text[tail:], slots, rules)) is not None \
                and asked.rule.intent not in _NOT_ASKED and asked.rule.name != "fee_category_or_tier_only":
            return RuleMatch(asked.rule, tail + asked.position)
    return _asked_instead(found, text, slots, rules)


def _classify(text: str, slots: Slots, rules: tuple[IntentRule, ...] = RULES) -> RuleMatch | None:
    """The winning rule for `text`, or None (FALLBACK). `rules` must be sorted by priority, highest first.

    Topic mentions are context, the question decides: when the winner is a context rule (打工, 搬家, 刚生完孩子,
    职工医保, 医院) and another clause of the message asks a fee, deadline, channel, family-account, enrolment or
    when-covered question
    without that mention, the question wins (我在外地打工，今年交多少 is FEE; 打工回来还能交吗 stays MIGRANT);
    unless another mention holds (the baby, when the question names nobody else), or a reading of the whole
    message outranks the clause's question (有社保，老家还用交合疗吗 is REGISTRATION)."""
    best = _best(text, slots, rules)
    if best is None or not best.rule.context:
        return best
    if best.rule.intent in _YIELDS_TO_COVER:
        # 过年回来的打工人现在交了啥时候能用: when cover starts, asked in the mention's own clause
        cover = _best(text, slots, tuple(r for r in rules if r.intent in _COVER_ASKED))
        if cover is not None:
            return cover
    if _asks_its_deadline(best.rule, text, slots, rules):
        return best  # 腊月才回，回来还能交吗，在哪交: the mention's deadline first (the other question is asked too)
    beside = _question_beside(best.rule, text, slots, rules) or _asked_after(best.rule, text, slots, rules)
    if beside is None:
        # A mention that only tells, in a message whose question spans the clauses (闺女在外地上班有职工医保，
        # 她能帮俺们交不: the daughter paying for them): the question of the whole message.
        if _only_told(best.rule, text, slots):
            other = _best(text, slots, tuple(r for r in rules if not r.context))
            if other is not None and other.rule.question and other.rule.intent not in best.rule.covers \
                    and not (other.rule.intent is Intent.DEADLINE and _timed(best.rule, text, slots)):
                return other
        return best
    # Another mention the question is about (医院说要给孩子办医保…现在办还来得及不: the newborn, as the question
    # names nobody else) holds where the first one yields.
    for other in rules:
        if other.context and other is not best.rule and other.priority > beside.rule.priority \
                and (held := other.match(text, slots)) is not None \
                and _question_beside(other, text, slots, rules) is None:
            return held
    # The mention yields; a reading of the whole message that outranks the clause's question still wins
    # (打工的地方有社保，老家还用交合疗吗: whether to join at all, not the fee), but not the deadline of a mention
    # that says when (腊月才回，回来还能交吗，在哪交: the mention's, and where to pay).
    timed = _timed(best.rule, text, slots)
    other = _best(text, slots, tuple(r for r in rules if not r.context
                                     and not (timed and r.intent is Intent.DEADLINE)))
    return other if other is not None and other.rule.priority > beside.rule.priority else beside


def told(text: str, intent: Intent) -> bool:
    """Whether the normalised `text` tells the situation of `intent`'s mentions (我在外地打工…), whatever it asks:
    an answer to another question may add the notice's line for that person."""
    return any(r.context and r.intent is intent and r.match(text, Slots()) for r in RULES)


# Tiers compared (二档和一档有啥区别, 高档低档有什么不一样, 540跟400选哪个好): a fee question naming no group whose
# answer is the tiers side by side and what the notice says sets them apart (bot/handlers/fee.py).
TIERS_COMPARED = re.compile(
    r"档(?:次)?[^,.;!?]{0,8}?(?:区别|差别|不一样|不同|有啥差|差在哪|差啥|哪个好|哪个划算|哪个值|选哪|怎么选)"
    r"|(?:[一二三高低中123]|第[一二三])档(?:次)?(?:和|跟|与|还是|或|比)(?:[一二三高低中123]|第[一二三])档"
    r"|\d{3}(?:元|块)?的?(?:还是|跟|和|或)\d{3}(?:元|块)?[^,.;!?]{0,6}?(?:区别|差别|不一样|不同|哪个好|选哪|怎么选)"
)
