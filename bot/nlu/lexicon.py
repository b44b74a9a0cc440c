"""Residents' words that no policy file holds: dialect fragments and colloquial category patterns.

The policy files own the category aliases (registry.category_aliases()); this module only adds what is
not a category *name*: grades written the other way round (残疾三级 / 三级残 / 肢体二级), 吃低保, 地被征了,
and the schema's shared keys (bot/rules/schema.py) for groups a resident may name although no loaded
notice does, so that "低保边缘户" never falls back to plain 低保.
"""

from __future__ import annotations

# Fragments shared by the intent rules. Dialect forms: 咋/咋个/啷个 (how), 啥/啥子/甚 (what; 甚 in
# Shanxi), 哪块 (where; Anhui), 多钱/好多钱 (how much; Henan, Sichuan), 俺/咱 (I, we).
HOW = r"(?:怎么样?|怎样|咋个?|咋样|如何|啷个|怎么个|哪样)"
WHAT = r"(?:什么|啥子?|甚么?)"
WHEN = (
    r"(?:什么时候|什么时间|啥时候?|啥子时候|啥时间|甚时候?|甚会儿|几时|何时|哪天|哪一天|多会儿?|"
    r"哪个时候|几月份?|几号)"
)
WHERE = r"(?:哪里|哪儿|哪块|哪个地方|哪边|啥地方|什么地方|甚地方|那里|那儿|哪)"
PAY = r"(?:交|缴|付|买|续)"
HOW_MUCH = r"(?:多少|多钱|好多|几块|几个钱|几百|几多)"
FAMILY = (
    r"(?:父母|爸妈|爹妈|爹娘|老人家?|家人|家里人|家属|亲属|亲人|孩子|娃儿?|小孩|儿子|女儿|闺女|老婆|媳妇|老公|爱人|"
    r"丈夫|妻子|配偶|爸爸?|妈妈?|爹|娘|爷爷|奶奶|老伴|公婆|岳父|岳母|丈母娘|家庭成员|一家人)"
)
SELF = r"(?:我|俺|咱|本人)"
# Relatives who may pay for the one asking (FAMILY and grandchildren, in-laws, siblings), and the one asking as
# paid for: 儿子能替我交不 is the family account; 我替她交 (the asker paying, at hand) is a question of channels,
# unless from afar (我在外地，能给老家的老娘交吗: the family account).
KIN = (rf"(?:{FAMILY[3:-1]}|孙子|孙女|外孙女?|儿媳妇?|女婿|侄子|侄女|外甥女?|哥哥?|姐姐?|弟弟?|妹妹?"
       r"|老娘|老爹|老爷子|老太太|(?:老)?母亲|(?:老)?父亲|老母|老父|双亲|那口子|老头子|老婆子|公公|婆婆|老丈人|嫂子|弟媳|弟妹|小舅子|小姑子|舅舅|姑姑|姨妈|大姨|小姨"
       # 俺儿, 我儿 (a son said with the one character)
       r"|(?<=[我俺咱])儿(?![子童女媳孙]))")
# Away from home: 在外地, 在外面打工, 人在外头.
AWAY = r"在(?:外地|外面|外头|外边|外省|外县|省外)"
PAID_FOR = rf"(?:{SELF}|老两口)(?:们|俩|两个|家)?"

_SEVERE_GRADE = r"(?:一|二|1|2|一二|一、二|1、2)"
_GENERAL_GRADE = r"(?:三|四|3|4|三四|三、四|3、4)"
_ANY_GRADE = r"(?:一|二|三|四|1|2|3|4)"
_DISABILITY_KIND = r"(?:肢体|视力|听力|言语|智力|多重)"

# Colloquial category patterns: key -> regexes (matched on normalised text, leftmost-longest together
# with the registry's aliases). 精神三、四级 count as severe (乐至县: 重度残疾（一、二级及精神三、四级）).
CATEGORY_PATTERNS: dict[str, tuple[str, ...]] = {
    "severe_disability": (
        rf"精神(?:残疾)?{_ANY_GRADE}级(?:残疾?)?",
        rf"{_ANY_GRADE}级精神(?:残疾?|病)?",
        rf"{_SEVERE_GRADE}级{_DISABILITY_KIND}?(?:残疾?|伤残)(?:人|证)?",
        rf"{_DISABILITY_KIND}(?:残疾)?{_SEVERE_GRADE}级",
        rf"残疾(?:证|人)?[,\s]?(?:是|为|等级是?)?{_SEVERE_GRADE}级",
        r"重度残疾?(?:人)?",
    ),
    "general_disability": (
        rf"{_GENERAL_GRADE}级{_DISABILITY_KIND}?(?:残疾?|伤残)(?:人|证)?",
        rf"{_DISABILITY_KIND}(?:残疾)?{_GENERAL_GRADE}级",
        rf"残疾(?:证|人)?[,\s]?(?:是|为|等级是?)?{_GENERAL_GRADE}级",
        r"一般残疾?(?:人)?",
        r"(?:轻度|中度)残疾?(?:人)?",
        r"轻残",
    ),
    # a disability with no grade said (残疾人交多少): every graded pattern above is longer, so it wins
    # (not the grade's own word, 肢体二级残疾; not the card, 残疾证怎么办)
    "disability": (r"(?<!级)残疾(?!证)(?:人员|人士|人|的)?", r"残障(?:人员|人士|人)?"),
    # (独保: 低保 as voice input or a slip of the pinyin keyboard gives it, no word of its own)
    "dibao": (r"(?:吃|拿|领|享受|评上|办了)低保", r"独保(?:户|对象|人员|家庭)?"),
    "dibao_edge": (r"低保边缘(?:户|家庭|人员|对象)?",),
    "tekun": (r"五保|三无人员|特困",),
    "orphan": (r"孤儿",),
    "unsupported_child": (r"事实无人抚养(?:儿童|的孩子)?", r"事实孤儿", r"没人(?:管|养|抚养)的(?:孩子|娃|小孩)"),
    # ... and said as a kind (监测的呢, 属于监测那种的): 监测 in this domain is only ever the monitored households
    "monitored": (r"防止?返贫监测", r"监测(?:户|对象|人口|人员)", r"监测(?=的|那|这)", r"边缘易致贫(?:户|人口)?",
                  r"三类户"),
    "returned_poor": (r"返贫致贫(?:户|人口)?", r"返贫(?:户|人口)?"),
    "tuopin": (r"脱贫(?:户|人口|人员)?", r"建档立卡(?:户|贫困户)?", r"贫困户"),
    "youfu": (
        r"优抚(?:对象)?",
        r"(?:军)?烈属",
        r"烈士(?:家属|遗属|子女)",
        r"(?:伤残|残疾)军人",
        r"复员军人",
        r"带病回乡退伍军人",
    ),
    "land_requisitioned": (r"被征地", r"失地农民", r"(?:地|土地)被征(?:了|收了)?", r"农转非"),
    "family_planning": (r"计生特扶", r"计划生育特(?:别)?扶助?", r"失独(?:家庭)?", r"独生子女(?:伤残|死亡)"),
    "jingjian": (r"精[减简](?:退休|退职|下放)?(?:老)?职工", r"精[减简]退休", r"62年精[减简]"),
    "civil_injured_worker": (r"(?:民政)?伤残民工",),
}

# A veteran named (退伍的, 退役军人, 老兵) and no narrower group (伤残军人, 带病回乡退伍军人 are 重点优抚对象:
# theirs): veterans in general, whom no notice subsidises as such (the fee answer names the 重点优抚对象 a
# notice does subsidise: not every veteran is one), in a fee question only (a veteran asking when collection
# ends, or about the late period, names no group: bot.nlu._query).
VETERAN = r"(?:退伍|退役)(?:军人|士兵|老兵|兵|的)?|老兵"
VETERAN_GROUP = "veteran"

# The domain's own words that voice input mishears (餐保, 叫费, 心生儿, 绑订): bot.nlu.sound respells what
# sounds like them, together with the policies' category aliases, region, township and tier names.
SOUND_TERMS: tuple[str, ...] = (
    "参保", "缴费", "交费", "医保", "合疗", "新农合", "医疗保险", "居民医保", "截止", "代办", "代办费",
    "手续费", "新生儿", "绑定", "解绑", "身份证", "残疾", "抚养", "监测", "家庭共济", "支付宝", "微信",
    # the family account's names, the subsidy's, and the insurances that are not ours (羊老保险 is a pension)
    "共济账户", "亲情账户", "亲情付", "财政补助", "政府补助", "补助标准", "养老保险", "养老金", "大病保险",
    # paying asked (教 heard for 交): the verb in the phrases that ask how, where and how much
    "怎么交", "咋交", "哪里交", "在哪交", "交多少", "交钱", "代交",
    # the national enrolment rules' words (灵报销 heard for 零报销, 暂亭 for 暂停, 等带期 for 等待期)
    "零报销", "连续参保", "等待期", "暂停", "参保地",
    # a newborn's words (出声 heard for 出生)
    "出生",
    # lapses (段保 heard for 断保)
    "断保", "断缴",
    # reminders asked for or stopped (题醒 heard for 提醒)
    "提醒",
)
# Terms that are also the end of a longer one (报销 in 零报销): respelt to, but their exact occurrence does not keep
# the longer term from being heard (灵报销 is 零报销; 包销 is 报销).
SOUND_TERMS_INNER: tuple[str, ...] = ("报销",)
# The verb the record is asked with (交), as heard in its reduplicated question (叫没叫, 教不教): see bot.nlu.sound.
PAY_VERB = "交"
# Function words and pronouns that never stand in for a character of a term: 交的保险 is not 交低保险, 给咱交 is not
# 给咋交 (unless the term has 3 or more characters and that is its only one heard otherwise: 财政不助 is 财政补助,
# 青和县 is 青禾县).
SOUND_STOP_CHARS: frozenset[str] = frozenset("的了是在有几吗呢吧啊么嘛不没我你他她它这那哪个和跟与也都就还要能会俺咱")

# Words right before a category that deny it: 不是低保户, 没吃低保, 非低保.
CATEGORY_NEGATIONS: tuple[str, ...] = ("不是", "不属于", "不算", "没有", "没", "非", "不再是")

# Tiers by name; amounts come from the registry (乐至县 540 高档次, 400 低档次).
TIER_PATTERNS: dict[str, tuple[str, ...]] = {
    "high": (r"高档次?", r"高的那(?:个|一)?档", r"档次高的", r"最高(?:的)?档", r"高标准"),
    "low": (r"低档次?", r"低的那(?:个|一)?档", r"档次低的", r"最低(?:的)?档", r"低标准"),
}

# Words that stop a run of characters ending in 县 from being a county name (我们县, 隔壁县, 本县).
NOT_A_COUNTY_PREFIX: tuple[str, ...] = (
    "我们", "咱们", "俺们", "你们", "他们", "隔壁", "外地", "其他", "别的", "哪个", "那个", "这个", "邻",
    "本", "外", "全", "各", "该", "此", "某", "换", "切换", "选", "改", "个", "一个", "哪", "这", "那",
)

# Common surnames, for telling a bare name ("张三") from a bare word while binding.
SURNAMES_COMPOUND: tuple[str, ...] = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "端木", "南宫", "独孤", "西门", "呼延", "澹台", "万俟", "闻人", "赫连",
)
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
    "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄"
    "窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池"
    "查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆"
    "朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫"
    "杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧"
    "闭由"
)
# Everyday words that start with a surname character but are not names (哈哈, 明白, 那个).
NOT_NAMES = frozenset(
    {
        "哈哈", "哈哈哈", "那个", "那么", "那就", "明白", "明白了", "但是", "全部", "全是", "时候",
        "都是", "都行", "来了", "和好", "于是", "由于", "还是", "安全", "平安", "方便", "高兴",
        "应该", "文件", "东西", "万一", "成功", "常常", "可能", "马上", "车上", "路上", "路过",
        "管他", "司机", "关于", "关机", "关了", "周末", "周一", "周二", "周三", "周四", "周五",
        "周六", "周日", "程序", "牛逼", "江湖", "甘心", "向上", "向下", "向前", "毛病", "林子",
        "方法", "方式", "方面", "华为", "计算", "施工", "章程", "金额", "左右", "白天", "黄金",
    }
)
