"""The texts the package ships, as data: English, Korean and French, keyed by text key.

English defines the keys (:data:`gpc_middleware.widget.i18n.TEXT_KEYS`); every catalog
here has exactly those. Sites adapt them through
:func:`gpc_middleware.widget.i18n.build_catalogs`, never by editing these dicts.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ENGLISH", "FRENCH", "KOREAN"]

# French typography: a no-break space before ":" and inside guillemets, a narrow
# no-break space before ";" (written as escapes so that no invisible character
# hides in the source).
_NBSP: Final = "\u00a0"
_NNBSP: Final = "\u202f"

ENGLISH: Final[dict[str, str]] = {
    # Banner shown on a first visit.
    "banner_title": "Your privacy choices",
    "banner_text": (
        "We use cookies and similar technologies. Essential ones keep the site working and "
        "are always on. With your consent we also use them for analytics, to remember your "
        "preferences and for targeted advertising. You can change your choices at any time "
        "under \u201cCookie settings\u201d."
    ),
    "banner_details": "Show details",
    # Settings dialog and page.
    "settings_title": "Cookie settings",
    "settings_intro": (
        "Choose which cookies and similar technologies we may use. Essential ones are always "
        "on because the site cannot work without them. Your choice is stored on this device "
        "and you can change it at any time."
    ),
    "settings_link": "Cookie settings",
    "categories_legend": "Categories",
    "category_essential": "Essential",
    "category_essential_description": (
        "Needed for the site to work: security, keeping you signed in and remembering your "
        "privacy choices. They cannot be turned off."
    ),
    "category_analytics": "Analytics",
    "category_analytics_description": (
        "Help us understand how the site is used, by counting visits and measuring "
        "performance, so that we can improve it."
    ),
    "category_preference": "Preferences",
    "category_preference_description": (
        "Remember settings you choose, such as your language or region, to give you a more "
        "personal experience."
    ),
    "category_targeting": "Targeted advertising",
    "category_targeting_description": (
        "Used by us and our advertising partners to show you ads based on your interests; "
        "this may involve selling or sharing your personal information."
    ),
    "always_on": "Always on",
    "gpc_locked": "Off while your browser sends Global Privacy Control",
    # The three choices, always shown with equal prominence.
    "accept_all": "Accept all",
    "reject_all": "Reject all",
    "save_choices": "Save choices",
    "close": "Close",
    "saved": "Your choices have been saved.",
    "save_failed": "Your choices could not be saved. Please try again.",
    # CCPA regulations section 7025(c)(6): the site may display "Opt-Out Request Honored".
    "gpc_notice": (
        "Opt-Out Request Honored: your browser\u2019s Global Privacy Control signal turned off "
        "targeting and the sale or sharing of your data."
    ),
    # "Do Not Sell or Share" page (CCPA regulations sections 7013 and 7014); its heading uses
    # "Your Privacy Choices", the regulations' name for the combined opt-out link.
    "dns_page_title": "Your Privacy Choices",
    "dns_title": "Do Not Sell or Share My Personal Information",
    "dns_intro": (
        "You have the right to opt out of the sale of your personal information and of its "
        "sharing for cross-context behavioral advertising. Your request also turns off "
        "targeted advertising cookies on this device."
    ),
    "dns_button": "Do not sell or share my personal information",
    "dns_confirmed": (
        "Your request has been received. We will not sell or share your personal information."
    ),
    "dns_in_effect": (
        "Your opt-out of the sale and sharing of your personal information is in effect."
    ),
    "limit_title": "Limit the Use of My Sensitive Personal Information",
    "limit_intro": (
        "You can ask us to use your sensitive personal information only as needed to provide "
        "the services you request."
    ),
    "limit_button": "Limit the use of my sensitive personal information",
    "limit_confirmed": (
        "Your request has been received. We will use your sensitive personal information only "
        "as needed to provide the services you request."
    ),
    "limit_in_effect": "The limit on the use of your sensitive personal information is in effect.",
    "back_to_site": "Back to the site",
    "privacy_policy": "Privacy policy",
}

KOREAN: Final[dict[str, str]] = {
    "banner_title": "개인정보 보호 선택",
    "banner_text": (
        "이 사이트는 쿠키 및 유사 기술을 사용합니다. 필수 쿠키는 사이트 운영에 필요하므로 항상 "
        "사용됩니다. 동의하시면 통계 분석, 환경설정 저장, 맞춤형 광고에도 사용합니다. 선택 사항은 "
        "언제든지 \u2018쿠키 설정\u2019에서 변경할 수 있습니다."
    ),
    "banner_details": "자세히 보기",
    "settings_title": "쿠키 설정",
    "settings_intro": (
        "사용을 허용할 쿠키 및 유사 기술을 선택하세요. 필수 쿠키는 사이트 운영에 반드시 필요하므로 "
        "항상 사용됩니다. 선택 사항은 이 기기에 저장되며 언제든지 변경할 수 있습니다."
    ),
    "settings_link": "쿠키 설정",
    "categories_legend": "쿠키 유형",
    "category_essential": "필수",
    "category_essential_description": (
        "보안, 로그인 상태 유지, 개인정보 보호 선택 저장 등 사이트 운영에 꼭 필요합니다. 해제할 수 "
        "없습니다."
    ),
    "category_analytics": "분석",
    "category_analytics_description": (
        "방문 수와 성능을 측정하여 사이트 이용 현황을 파악하고 서비스를 개선하는 데 사용됩니다."
    ),
    "category_preference": "환경설정",
    "category_preference_description": (
        "언어나 지역 등 직접 선택하신 설정을 기억하여 더 편리한 이용 환경을 제공합니다."
    ),
    "category_targeting": "맞춤형 광고",
    "category_targeting_description": (
        "당사와 광고 파트너가 관심사에 맞는 광고를 보여 드리는 데 사용하며, 개인정보의 판매 또는 "
        "공유가 포함될 수 있습니다."
    ),
    "always_on": "항상 사용",
    "gpc_locked": "브라우저가 글로벌 프라이버시 컨트롤(GPC) 신호를 보내는 동안 꺼져 있습니다",
    "accept_all": "모두 허용",
    "reject_all": "모두 거부",
    "save_choices": "선택 사항 저장",
    "close": "닫기",
    "saved": "선택 사항이 저장되었습니다.",
    "save_failed": "선택 사항을 저장하지 못했습니다. 다시 시도해 주세요.",
    "gpc_notice": (
        "거부 요청 반영됨: 브라우저의 GPC(Global Privacy Control) 신호에 따라 맞춤형 광고와 "
        "개인정보 판매·공유가 중단되었습니다."
    ),
    "dns_page_title": "개인정보 보호 선택권",
    "dns_title": "내 개인정보 판매 및 공유 거부",
    "dns_intro": (
        "귀하는 개인정보의 판매와, 여러 사이트에 걸친 행태 기반 광고를 위한 개인정보 공유를 거부할 "
        "권리가 있습니다. 이 요청을 하시면 이 기기에서 맞춤형 광고 쿠키도 해제됩니다."
    ),
    "dns_button": "내 개인정보 판매 및 공유 거부하기",
    "dns_confirmed": "요청이 접수되었습니다. 귀하의 개인정보를 판매하거나 공유하지 않겠습니다.",
    "dns_in_effect": "개인정보 판매 및 공유 거부가 적용되어 있습니다.",
    "limit_title": "민감한 개인정보의 이용 제한",
    "limit_intro": (
        "민감한 개인정보를 요청하신 서비스 제공에 필요한 범위에서만 이용하도록 요청하실 수 "
        "있습니다."
    ),
    "limit_button": "민감한 개인정보 이용 제한하기",
    "limit_confirmed": (
        "요청이 접수되었습니다. 민감한 개인정보는 요청하신 서비스 제공에 필요한 범위에서만 "
        "이용하겠습니다."
    ),
    "limit_in_effect": "민감한 개인정보 이용 제한이 적용되어 있습니다.",
    "back_to_site": "사이트로 돌아가기",
    "privacy_policy": "개인정보 처리방침",
}

FRENCH: Final[dict[str, str]] = {
    "banner_title": "Votre vie privée",
    "banner_text": (
        "Nous utilisons des cookies et des technologies similaires. Les cookies essentiels "
        "sont nécessaires au fonctionnement du site et toujours actifs. Avec votre accord, "
        "nous en utilisons aussi pour mesurer l\u2019audience, mémoriser vos préférences et vous "
        "proposer de la publicité ciblée. Vous pouvez modifier vos choix à tout moment via "
        f"\u00ab{_NBSP}Paramètres des cookies{_NBSP}\u00bb."
    ),
    "banner_details": "Voir le détail",
    "settings_title": "Paramètres des cookies",
    "settings_intro": (
        "Choisissez les cookies et technologies similaires que nous pouvons utiliser. Les "
        "cookies essentiels sont toujours actifs car le site ne peut pas fonctionner sans eux. "
        "Votre choix est enregistré sur cet appareil et vous pouvez le modifier à tout moment."
    ),
    "settings_link": "Paramètres des cookies",
    "categories_legend": "Catégories",
    "category_essential": "Essentiels",
    "category_essential_description": (
        f"Indispensables au fonctionnement du site{_NBSP}: sécurité, maintien de votre "
        "connexion et mémorisation de vos choix de confidentialité. Ils ne peuvent pas être "
        "désactivés."
    ),
    "category_analytics": "Mesure d\u2019audience",
    "category_analytics_description": (
        "Nous aident à comprendre comment le site est utilisé, en comptant les visites et en "
        "mesurant ses performances, afin de l\u2019améliorer."
    ),
    "category_preference": "Préférences",
    "category_preference_description": (
        "Mémorisent les réglages que vous choisissez, comme votre langue ou votre région, pour "
        "personnaliser votre expérience."
    ),
    "category_targeting": "Publicité ciblée",
    "category_targeting_description": (
        "Utilisés par nous et nos partenaires publicitaires pour vous montrer des publicités "
        f"adaptées à vos centres d\u2019intérêt{_NNBSP}; ils peuvent impliquer la vente ou le "
        "partage de vos données personnelles."
    ),
    "always_on": "Toujours actifs",
    "gpc_locked": "Désactivé tant que votre navigateur envoie le signal Global Privacy Control",
    "accept_all": "Tout accepter",
    "reject_all": "Tout refuser",
    "save_choices": "Enregistrer mes choix",
    "close": "Fermer",
    "saved": "Vos choix ont été enregistrés.",
    "save_failed": "Vos choix n\u2019ont pas pu être enregistrés. Veuillez réessayer.",
    "gpc_notice": (
        f"Demande d\u2019opposition respectée{_NBSP}: le signal Global Privacy Control de votre "
        "navigateur a désactivé le ciblage publicitaire ainsi que la vente ou le partage de vos "
        "données."
    ),
    "dns_page_title": "Vos choix en matière de confidentialité",
    "dns_title": "Ne pas vendre ni partager mes informations personnelles",
    "dns_intro": (
        "Vous avez le droit de vous opposer à la vente de vos informations personnelles et à "
        "leur partage à des fins de publicité comportementale inter-contextes. Votre demande "
        "désactive aussi les cookies de publicité ciblée sur cet appareil."
    ),
    "dns_button": "Ne pas vendre ni partager mes informations personnelles",
    "dns_confirmed": (
        "Votre demande a bien été prise en compte. Nous ne vendrons ni ne partagerons vos "
        "informations personnelles."
    ),
    "dns_in_effect": (
        "Votre opposition à la vente et au partage de vos informations personnelles est en vigueur."
    ),
    "limit_title": "Limiter l\u2019utilisation de mes informations personnelles sensibles",
    "limit_intro": (
        "Vous pouvez nous demander de n\u2019utiliser vos informations personnelles sensibles que "
        "dans la mesure nécessaire pour fournir les services que vous demandez."
    ),
    "limit_button": "Limiter l\u2019utilisation de mes informations sensibles",
    "limit_confirmed": (
        "Votre demande a bien été prise en compte. Nous n\u2019utiliserons vos informations "
        "personnelles sensibles que dans la mesure nécessaire pour fournir les services que "
        "vous demandez."
    ),
    "limit_in_effect": (
        "La limitation de l\u2019utilisation de vos informations personnelles sensibles est en "
        "vigueur."
    ),
    "back_to_site": "Retour au site",
    "privacy_policy": "Politique de confidentialité",
}
