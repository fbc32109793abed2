"""The demo newsroom's French edition (issue 13): a home at /fr/, two sections, three articles.

Each entry names the English page it translates (`translates`: a section's slug, an
article's slug); service/seed.py gives it that page's translation key. Our own text.
"""

from __future__ import annotations

from typing import Any

LOCALE = "fr"

HOME: dict[str, Any] = {
    "title": "Accueil",
    "seo_title": "Le Courrier de Northgate | L'actualité de Northgate et de l'Aldwater, en français",
    "search_description": "Une sélection de nos articles traduits en français : le monde, les sciences et la région de l'Aldwater.",
}

SECTIONS: list[dict[str, Any]] = [
    {
        "translates": "world-news",
        "slug": "monde",
        "title": "Monde",
        "description": "L'actualité internationale, la diplomatie et les crises, par nos correspondants.",
    },
    {
        "translates": "science",
        "slug": "sciences",
        "title": "Sciences",
        "description": "La recherche de l'université de Northgate et des laboratoires du monde entier, expliquée.",
    },
]

ARTICLES: list[dict[str, Any]] = [
    {
        "translates": "relief-flights-reach-marrowen-islands",
        "section": "monde",
        "slug": "premiers-vols-humanitaires-iles-marrowen",
        "title": "Les premiers vols humanitaires atterrissent aux îles Marrowen après le cyclone Ilsa",
        "headline": "« Il n'y a plus un seul toit sur la côte nord » : l'aide arrive dans les îles dévastées",
        "summary": "Quatre jours après le cyclone le plus violent jamais enregistré dans l'archipel, les premiers avions chargés d'aide se sont posés aux îles Marrowen, où des dizaines de milliers d'habitants sont sans abri.",
        "body": [
            {"type": "paragraph", "value": {"html": "<p>Les premiers vols humanitaires se sont posés jeudi aux îles Marrowen, quatre jours après le passage du cyclone Ilsa et de ses rafales à 240 kilomètres à l'heure. Deux avions cargos ont débarqué sur l'île de Tallis des unités de potabilisation, des bâches et du matériel médical, après que la piste a été dégagée pendant la nuit.</p>"}},
            {"type": "paragraph", "value": {"html": "<p>Le gouvernement de l'archipel fait état de 37 morts et estime que plus de 60 000 personnes, près d'un tiers de la population, ont perdu leur logement ou l'ont vu gravement endommagé. Plusieurs îles éloignées restent injoignables, et les autorités craignent un bilan plus lourd à mesure que les secours y accèdent par bateau.</p>"}},
            {"type": "quote", "value": {"text": "Il n'y a plus un seul toit sur la côte nord. Les gens dorment dans l'église, dans l'école, partout où les murs tiennent encore. Ce qu'il nous faut d'abord, c'est de l'eau potable.", "attribution": "Le père Elias Moro, curé de Port Sennet"}},
            {"type": "heading", "value": {"text": "L'eau, première inquiétude des médecins", "level": 2}},
            {"type": "paragraph", "value": {"html": "<p>Pour les organisations humanitaires, l'urgence est l'eau. La submersion a envahi les puits et l'usine de dessalement de Tallis, et les médecins de l'hôpital principal signalent davantage de diarrhées chez les enfants. Un hôpital de campagne doit arriver par bateau ce week-end.</p>"}},
        ],
    },
    {
        "translates": "coastal-cities-sign-flood-defence-pact",
        "section": "monde",
        "slug": "quarante-villes-cotieres-pacte-contre-les-inondations",
        "title": "Quarante villes côtières signent à Rotterdam un pacte contre les inondations",
        "headline": "Quarante villes côtières signent à Rotterdam un pacte contre les inondations",
        "summary": "Northgate fait partie des signataires d'un accord pour partager les données techniques, grouper les achats et réclamer un accès direct aux fonds internationaux d'adaptation au climat.",
        "body": [
            {"type": "paragraph", "value": {"html": "<p>Maires et élus de quarante villes côtières de cinq continents ont signé jeudi à Rotterdam un accord pour mettre en commun leurs recherches sur la protection contre les crues, acheter ensemble leurs équipements et obtenir un accès direct aux financements climatiques internationaux. La maire de Northgate, Helena Strand, figure parmi les signataires.</p>"}},
            {"type": "paragraph", "value": {"html": "<p>Chaque ville s'engage à publier, dans un format commun, les données de ses digues, de ses marégraphes et de ses inondations, afin que les ingénieurs puissent comparer les ouvrages. Les achats groupés de pompes, de vannes et de capteurs pourraient réduire les coûts d'un quart pour les plus petites villes.</p>"}},
            {"type": "quote", "value": {"text": "L'eau n'attend pas les traités. Northgate vit avec l'Aldwater depuis huit siècles et nous avons beaucoup appris, mais jamais nous n'avons dû apprendre aussi vite.", "attribution": "Helena Strand, maire de Northgate"}},
            {"type": "paragraph", "value": {"html": "<p>Northgate consacrera 120 millions d'euros sur dix ans à rehausser ses quais et à construire un barrage anti-marée à l'embouchure du Mill Stream, dont la crue avait inondé plus de 300 logements en 2019. Le groupe se réunira à Northgate en 2028 pour faire le point.</p>"}},
        ],
    },
    {
        "translates": "seagrass-returns-to-aldwater-estuary",
        "section": "sciences",
        "slug": "les-herbiers-reviennent-dans-l-estuaire-de-l-aldwater",
        "title": "Les herbiers marins reviennent dans l'estuaire de l'Aldwater",
        "headline": "Les herbiers marins reviennent dans l'estuaire de l'Aldwater",
        "summary": "Trois ans après les premiers semis à la main, la prairie sous-marine de Gull Point couvre quatre hectares et s'étend désormais d'elle-même, selon les chercheurs.",
        "hero_caption": "La prairie de Gull Point couvre aujourd'hui quatre hectares, selon les chercheurs.",
        "body": [
            {"type": "paragraph", "value": {"html": "<p>Une prairie de zostères semée à la main dans l'estuaire de l'Aldwater couvre désormais quatre hectares et s'étend naturellement, selon une étude publiée par l'université de Northgate. En 2023, des bénévoles avaient déposé quelque 600 000 graines dans de petits sacs de toile de jute sur les vasières de Gull Point.</p>"}},
            {"type": "paragraph", "value": {"html": "<p>Les herbiers couvraient autrefois une grande partie de l'estuaire avant de disparaître dans les années 1930, victimes d'une maladie et de la pollution. Ils abritent les jeunes poissons, retiennent les sédiments et stockent du carbone dans la vase.</p>"}},
            {"type": "heading", "value": {"text": "Poissons et hippocampes sont de retour", "level": 2}},
            {"type": "paragraph", "value": {"html": "<p>Les caméras immergées ont filmé de jeunes bars, des syngnathes et, en août, deux hippocampes à museau court, une espèce que l'on n'avait plus vue dans l'estuaire depuis des décennies. Les chercheurs préviennent toutefois que la prairie reste fragile face au dragage et aux engrais lessivés par les pluies.</p>"}},
        ],
    },
]
